// The peer pools on the pool figures: same task module (tasks/task.mjs, wrapped only where a
// peer demands its own worker shape), same worker count (2), same sizes as ours.
import { runtime } from "../_runtime/mod.ts";
import { type PeerName, PEERS, POOL_FIGURES, pythonChunksize, type Sizes } from "./_config.ts";
import { bounded, medianOf, mediansOf, range, speedup, taskFile, timeMs, timeWallCpu } from "./_measure.ts";

/** What the bench needs from a pool: run a named task of tasks/task.mjs, and shut down. */
interface PeerPool {
  run(name: string, x: unknown): Promise<unknown>;
  close(): Promise<unknown>;
}

// Loose shapes of the peers' APIs: they are imported by a computed name so the bench does
// not depend on each peer's type declarations.
// deno-lint-ignore no-explicit-any
type Loose = any;

async function load(name: string): Promise<Loose> {
  return await import(name);
}

const OPEN: Record<PeerName, () => Promise<PeerPool>> = {
  async piscina() {
    const m = await load("piscina");
    const Piscina = m.Piscina ?? m.default;
    const p = new Piscina({ filename: taskFile("piscina_worker.mjs").href, minThreads: 2, maxThreads: 2 });
    return { run: (name, x) => p.run(x, { name }), close: () => p.destroy() };
  },
  async tinypool() {
    const { Tinypool } = await load("tinypool");
    const p = new Tinypool({ filename: taskFile("piscina_worker.mjs").href, minThreads: 2, maxThreads: 2 });
    return { run: (name, x) => p.run(x, { name }), close: () => p.destroy() };
  },
  async workerpool() {
    const m = await load("workerpool");
    const wp = m.default ?? m;
    // workerpool's worker_threads mode never answers on Bun; its Web Worker mode does.
    const workerType = runtime.name === "bun" ? "web" : "thread";
    const p = wp.pool(taskFile("workerpool_worker.mjs").pathname, {
      minWorkers: 2,
      maxWorkers: 2,
      workerType,
    });
    return { run: (name, x) => p.exec(name, [x]), close: () => p.terminate() };
  },
  async poolifier() {
    const { FixedThreadPool } = await load("poolifier");
    const p = new FixedThreadPool(2, taskFile("poolifier_worker.mjs").pathname);
    return { run: (name, x) => p.execute(x, name), close: () => p.destroy() };
  },
};

/** One peer's pool figures. */
export type PeerFigures = Record<string, number>;

async function measurePeer(pool: PeerPool, s: Sizes, at: { phase: string }): Promise<PeerFigures> {
  const out: PeerFigures = {};
  // Peers have no map: N concurrent runs is what a user writes, and what Executor.map is.
  const items = range(s.map_chunk1_n);
  // One task before the warm-up burst: tinypool on Deno hangs on a burst sent before its
  // workers are up, and a peer that cannot answer one task in 10 s does not work here.
  at.phase = "first task";
  await bounded("the first task", 10_000, () => pool.run("noop", 0));
  at.phase = "warm-up";
  await Promise.all(range(500).map((i) => pool.run("noop", i)));
  at.phase = "pool_map_chunk1";
  [out.pool_map_chunk1, out.pool_map_chunk1_cpu] = await mediansOf(s.reps, async () => {
    const { wall, cpu } = await timeWallCpu(() => Promise.all(items.map((x) => pool.run("noop", x))));
    return [items.length / (wall / 1e3), (cpu * 1e3) / items.length];
  });
  out.executor_map = out.pool_map_chunk1;
  out.executor_map_cpu = out.pool_map_chunk1_cpu;
  // Default chunking by hand, with Python's chunk size, through the shared mapChunk task.
  const size = pythonChunksize(s.map_default_n, 2);
  const all = range(s.map_default_n);
  at.phase = "pool_map_default";
  out.pool_map_default = await medianOf(s.reps, async () => {
    const ms = await timeMs(async () => {
      const parts: Promise<unknown>[] = [];
      for (let i = 0; i < all.length; i += size) parts.push(pool.run("mapChunk", all.slice(i, i + size)));
      if ((await Promise.all(parts)).flat().length !== all.length) throw new Error("Chunked map lost items");
    });
    return all.length / (ms / 1e3);
  });
  at.phase = "apply_roundtrip";
  [out.apply_roundtrip, out.apply_roundtrip_cpu] = await mediansOf(s.reps, async () => {
    const { wall, cpu } = await timeWallCpu(async () => {
      for (let i = 0; i < s.apply_n; i++) await pool.run("noop", i);
    });
    return [(wall * 1e3) / s.apply_n, (cpu * 1e3) / s.apply_n];
  });
  at.phase = "cpu_speedup";
  const work = new Array<number>(s.fib_count).fill(s.fib_n);
  out.cpu_speedup = await speedup(s.reps, work, () => Promise.all(work.map((n) => pool.run("fib", n))));
  return out;
}

async function attemptPeer(
  name: PeerName,
  s: Sizes,
  log: (line: string) => void,
): Promise<{ figures: PeerFigures } | { error: string }> {
  let pool: PeerPool | undefined;
  const at = { phase: "opening the pool" };
  let result: { figures: PeerFigures } | { error: string };
  try {
    const figures = await bounded(`peer ${name}`, s.budget_ms / 2, async () => {
      pool = await OPEN[name]();
      return await measurePeer(pool, s, at);
    });
    log(`peer ${name}: ${JSON.stringify(figures)}`);
    result = { figures };
  } catch (error) {
    result = { error: `${(error as Error).message} (during ${at.phase})` };
    log(`peer ${name} failed: ${result.error}`);
  }
  // A pool that hung may never finish closing; its threads die with the process.
  await bounded(`closing ${name}`, 5_000, async () => await pool?.close()).catch((e) => log(e.message));
  return result;
}

/** Measure every peer; one that fails to load or run is reported as absent, with the reason. */
export async function measurePeers(
  s: Sizes,
  log: (line: string) => void,
  only: ReadonlySet<string> | null = null,
): Promise<{ figures: Partial<Record<PeerName, PeerFigures>>; errors: Record<string, string> }> {
  const figures: Partial<Record<PeerName, PeerFigures>> = {};
  const errors: Record<string, string> = {};
  if (only !== null && !POOL_FIGURES.some((id) => only.has(id))) return { figures, errors };
  for (const name of PEERS) {
    // Two tries on a fresh pool each: tinypool on Deno now and then stops answering mid-run,
    // and one stall should not erase a peer that otherwise works.
    for (let attempt = 1; attempt <= 2 && figures[name] === undefined; attempt++) {
      const result = await attemptPeer(name, s, log);
      if ("figures" in result) figures[name] = result.figures;
      else errors[name] = `${result.error}${attempt === 1 ? "" : " (twice)"}`;
    }
    // Keep a stall on record even when the second try worked.
    if (figures[name] !== undefined && errors[name]) {
      errors[name] = `figures from a second try; the first: ${errors[name]}`;
    }
  }
  return { figures, errors };
}

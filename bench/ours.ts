// Our library on every figure. Each workload names the exports it needs and is skipped,
// with the reason printed, when mod.ts does not export them yet: the bench runs on any
// slice of the project.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runtime } from "../_runtime/mod.ts";
import type { Sizes } from "./_config.ts";
import {
  bounded,
  controlBlock,
  medianOf,
  mediansOf,
  range,
  runFresh,
  speedup,
  taskFile,
  timeMs,
  timeParties,
  timeWallCpu,
} from "./_measure.ts";
import { distributedFigures } from "./distributed.ts";

// The library is read through this loose view rather than typed imports, so the bench
// type-checks while pool/, sync/, ipc/ and shm/ are still being written.
// deno-lint-ignore no-explicit-any
type Loose = any;
type Mod = Record<string, Loose>;

/** One of our workloads: the figures it yields, and the exports it cannot run without. */
interface Workload {
  ids: string[];
  needs: string[];
  run(mod: Mod, s: Sizes): Promise<Record<string, number>>;
}

const TASKS = taskFile("task.mjs");

/** URL of the library under test (see {@linkcode Library}). */
let libraryUrl = "";
const CONTEND = taskFile("contend.mjs");
const MANAGER = taskFile("manager.mjs");
const IPC = taskFile("ipc.mjs");

function taskRef(mod: Mod, file: URL, name: string): Loose {
  return mod.task(file, name);
}

// Warm: each start finds the reserve booted (the wait for it is not timed), as a program
// that starts processes now and then does. Cold: the reserve is off, every start boots.
async function startJoinWarmCold(
  mod: Mod,
  s: Sizes,
  make: () => Loose,
  n: number = s.start_join_n,
): Promise<[number, number]> {
  const once = async () => {
    const p = make();
    const ms = await timeMs(async () => {
      p.start();
      await p.join();
    });
    if (p.exitCode !== 0) throw new Error(`Empty process exited with ${p.exitCode}`);
    return ms;
  };
  // The first start makes the reserve for its kind of child.
  await once();
  const warm = await medianOf(s.reps, async () => {
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (!await mod.warmReserve({ timeout: 10_000 })) throw new Error("The worker reserve did not warm up in 10 s");
      total += await once();
    }
    return total / n;
  });
  const size = mod.getReserve();
  mod.setReserve(0);
  try {
    const cold = await medianOf(s.reps, async () => {
      let total = 0;
      for (let i = 0; i < n; i++) total += await once();
      return total / n;
    });
    return [warm, cold];
  } finally {
    mod.setReserve(size);
  }
}

async function startJoin(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const empty = taskRef(mod, TASKS, "empty");
  const [warm, cold] = await startJoinWarmCold(mod, s, () => new mod.Process({ target: empty }));
  return { process_start_join: warm, process_start_join_cold: cold };
}

// RSS growth of a fresh process (workers are threads of it) once a pool's 4 workers have
// booted, with the reserve off so only the pool's own workers count; see
// tasks/idle_memory.mjs.
async function poolIdleMemory(_mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const url = libraryUrl;
  const mib = await medianOf(
    s.reps,
    () => (runFresh(taskFile("idle_memory.mjs"), ["ours", url]) as { mib: number }).mib,
  );
  return { pool_idle_mib_per_worker: mib };
}

async function poolFigures(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const noop = taskRef(mod, TASKS, "noop");
  const fibTask = taskRef(mod, TASKS, "fib");
  const pool = new mod.Pool({ processes: 2 });
  const out: Record<string, number> = {};
  try {
    await pool.map(noop, range(500), { chunksize: 1 });
    const items = range(s.map_chunk1_n);
    [out.pool_map_chunk1, out.pool_map_chunk1_cpu] = await mediansOf(s.reps, async () => {
      const { wall, cpu } = await timeWallCpu(async () =>
        check(await pool.map(noop, items, { chunksize: 1 }), items.length)
      );
      return [items.length / (wall / 1e3), (cpu * 1e3) / items.length];
    });
    const all = range(s.map_default_n);
    out.pool_map_default = await medianOf(s.reps, async () => {
      const ms = await timeMs(async () => check(await pool.map(noop, all), all.length));
      return all.length / (ms / 1e3);
    });
    [out.apply_roundtrip, out.apply_roundtrip_cpu] = await mediansOf(s.reps, async () => {
      const { wall, cpu } = await timeWallCpu(async () => {
        for (let i = 0; i < s.apply_n; i++) await pool.apply(noop, [i]);
      });
      return [(wall * 1e3) / s.apply_n, (cpu * 1e3) / s.apply_n];
    });
    const work = new Array<number>(s.fib_count).fill(s.fib_n);
    out.cpu_speedup = await speedup(s.reps, work, () => pool.map(fibTask, work, { chunksize: 1 }));
    const spin = taskRef(mod, TASKS, "spin");
    const varied = variedItems(s);
    const ideal = (s.varied_slow_n * s.varied_ms) / 2;
    out.pool_map_varied = await medianOf(s.reps, async () => {
      const ms = await timeMs(async () => check(await pool.map(spin, varied, { chunksize: 1 }), varied.length));
      return ms / ideal;
    });
  } finally {
    await pool.terminate();
  }
  return out;
}

/** A generator, so the input is read as it streams and never held whole. */
function* numbers(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function imapChunk1(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const noop = taskRef(mod, TASKS, "noop");
  const pool = new mod.Pool({ processes: 2 });
  const drain = async (n: number) => {
    let count = 0;
    for await (const _ of pool.imapUnordered(noop, numbers(n))) count++;
    if (count !== n) throw new Error(`imapUnordered yielded ${count} results for ${n} items`);
  };
  try {
    await drain(500);
    // At most 3 timed runs (after medianOf's warm-up): 2M items take seconds a run on Deno,
    // and the whole group must stay inside the bench's budget.
    const rate = await medianOf(
      Math.min(s.reps, 3),
      async () => s.imap_n / ((await timeMs(() => drain(s.imap_n))) / 1e3),
    );
    return { pool_imap_chunk1: rate };
  } finally {
    await pool.terminate();
  }
}

/** Instant items first, then slow ones: the order that strands slow items in one worker's window. */
function variedItems(s: Sizes): number[] {
  return [...new Array(s.varied_fast_n).fill(0), ...new Array(s.varied_slow_n).fill(s.varied_ms)];
}

function check(results: unknown[], n: number): void {
  if (results.length !== n) throw new Error(`Pool.map returned ${results.length} results for ${n} items`);
}

async function executorMap(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const noop = taskRef(mod, TASKS, "noop");
  const ex = new mod.ProcessPoolExecutor({ maxWorkers: 2 });
  const drain = async (n: number) => {
    let count = 0;
    for await (const _ of ex.map(noop, range(n))) count++;
    if (count !== n) throw new Error(`Executor.map yielded ${count} results for ${n} items`);
  };
  try {
    await drain(500);
    const [tput, cpu] = await mediansOf(s.reps, async () => {
      const { wall, cpu } = await timeWallCpu(() => drain(s.executor_n));
      return [s.executor_n / (wall / 1e3), (cpu * 1e3) / s.executor_n];
    });
    return { executor_map: tput, executor_map_cpu: cpu };
  } finally {
    await ex.shutdown();
  }
}

// acquireSync is the fast path where this thread may block; elsewhere (a main thread that
// must not block) the async form is what a user would call, so that is what we time.
async function lockUncontended(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const lock = new mod.Lock();
  let sync = true;
  try {
    lock.acquireSync();
    lock.release();
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    sync = false;
  }
  const ns = await medianOf(s.reps, async () => {
    const t = performance.now();
    if (sync) {
      for (let i = 0; i < s.lock_n; i++) {
        lock.acquireSync();
        lock.release();
      }
    } else {
      for (let i = 0; i < s.lock_n; i++) {
        await lock.acquire();
        lock.release();
      }
    }
    return ((performance.now() - t) * 1e6) / s.lock_n;
  });
  return { lock_uncontended: ns };
}

/** Start two processes on `target`, release them together, and time until both are done. */
async function twoProcesses(mod: Mod, target: string, args: (sab: SharedArrayBuffer) => unknown[]) {
  const { sab, ctl } = controlBlock();
  const ps = [0, 1].map(() => new mod.Process({ target: taskRef(mod, CONTEND, target), args: args(sab) }));
  for (const p of ps) p.start();
  const ms = await timeParties(ctl, 2);
  await Promise.all(ps.map((p: Loose) => p.join()));
  for (const p of ps) if (p.exitCode !== 0) throw new Error(`${target} process exited with ${p.exitCode}`);
  return { ms, counter: ctl[7] };
}

async function lockContended(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const ops = await medianOf(s.reps, async () => {
    const lock = new mod.Lock();
    const { ms, counter } = await twoProcesses(mod, "lockIncr", (sab) => [lock, sab, s.incr_n]);
    if (counter !== 2 * s.incr_n) throw new Error(`Lock let updates through: ${counter} !== ${2 * s.incr_n}`);
    return (2 * s.incr_n) / (ms / 1e3);
  });
  return { lock_contended_incr: ops };
}

async function rwMix(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const ops = await medianOf(s.reps, async () => {
    const rw = new mod.RWLock();
    const { ms, counter } = await twoProcesses(mod, "rwMix", (sab) => [rw, sab, s.rw_n, s.rw_write_every]);
    const writes = 2 * Math.ceil(s.rw_n / s.rw_write_every);
    if (counter !== writes) throw new Error(`RWLock lost writes: ${counter} !== ${writes}`);
    return (2 * s.rw_n) / (ms / 1e3);
  });
  return { rwlock_read_mix: ops };
}

async function valueIncr(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const ops = await medianOf(s.reps, async () => {
    const v = new mod.Value("i", 0);
    const { ms } = await twoProcesses(mod, "valueIncr", (sab) => [v, sab, s.incr_n]);
    if (v.value !== 2 * s.incr_n) throw new Error(`Value lost updates: ${v.value} !== ${2 * s.incr_n}`);
    return (2 * s.incr_n) / (ms / 1e3);
  });
  return { value_locked_incr: ops };
}

/** Start one process per argument list on `target` in CONTEND, released together on one control block. */
function startTogether(mod: Mod, target: string, argLists: unknown[][]): () => Promise<void> {
  const ps = argLists.map((args) => new mod.Process({ target: taskRef(mod, CONTEND, target), args }));
  for (const p of ps) p.start();
  return async () => {
    await Promise.all(ps.map((p: Loose) => p.join()));
    for (const p of ps) if (p.exitCode !== 0) throw new Error(`${target} process exited with ${p.exitCode}`);
  };
}

// Each worker fills and sums its half of one shared float64 array through `view`, the
// documented fast path (Python's side uses numpy over Array's buffer, its fastest).
async function arrayFillSum(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const a = new mod.SharedArray("d", s.array_n);
  const items = await medianOf(s.reps, async () => {
    const { sab, ctl } = controlBlock(16);
    const joined = startTogether(mod, "arrayFillSum", [[a, sab, 0, 2], [a, sab, 1, 2]]);
    const ms = await timeParties(ctl, 2);
    await joined();
    const sums = new Float64Array(sab, 32, 2);
    const want = (0.5 * s.array_n * (s.array_n - 1)) / 2;
    if (Math.abs(sums[0] + sums[1] - want) > want * 1e-9) throw new Error(`Array sum ${sums[0] + sums[1]} !== ${want}`);
    return s.array_n / (ms / 1e3);
  });
  return { array_fill_sum: items };
}

// A block filled (so resident) by the main thread; two started workers wait, RSS is read,
// then they attach by name, time attach + close, and read one byte of every page.
async function shmAttach(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const shm = mod.SharedMemory.create({ size: s.shm_bytes });
  const rssGrowth: number[] = [];
  try {
    shm.buf.fill(1);
    const us = await medianOf(s.reps, async () => {
      const { sab, ctl } = controlBlock(32);
      const joined = startTogether(mod, "shmAttach", [[shm, sab, 0, s.shm_attach_n], [
        shm,
        sab,
        1,
        s.shm_attach_n,
      ]]);
      while (Atomics.load(ctl, 3) < 2) await new Promise((resolve) => setTimeout(resolve, 1));
      const before = process.memoryUsage().rss;
      await timeParties(ctl, 2);
      rssGrowth.push((process.memoryUsage().rss - before) / 2 ** 20);
      await joined();
      const out = new Float64Array(sab, 32, 4);
      const pages = Math.ceil(s.shm_bytes / 4096);
      if (out[2] !== pages || out[3] !== pages) throw new Error(`Workers read ${out[2]}, ${out[3]} of ${pages} pages`);
      return (out[0] + out[1]) / 2;
    });
    rssGrowth.sort((x, y) => x - y);
    return { shm_attach: us, shm_attach_rss: rssGrowth[Math.floor(rssGrowth.length / 2)] };
  } finally {
    shm.unlink();
    shm.close();
  }
}

// One caller is the main thread with the async forms, as a program's main thread calls them;
// the two workers use the blocking forms a worker may use, started together on one signal
// once each has warmed up and the worker reserve has refilled.
async function managerDict(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const manager = await mod.Manager.start();
  try {
    const d = await manager.dict();
    const n = s.manager_ops_n;
    const one = await medianOf(s.reps, async () => {
      const ms = await timeMs(async () => {
        for (let i = 0; i < n; i++) {
          await d.set("k", i);
          await d.get("k");
        }
      });
      return (2 * n) / (ms / 1e3);
    });
    const two = await medianOf(s.reps, async () => {
      const { sab, ctl } = controlBlock();
      const ps = [0, 1].map((j) =>
        new mod.Process({ target: taskRef(mod, MANAGER, "dictOps"), args: [d, `k${j}`, sab, n] })
      );
      for (const p of ps) p.start();
      // The starts took workers from the reserve: its refill boots a new one, which must
      // not share the timed cores (Python's children start with nothing else running).
      if (!await mod.warmReserve({ timeout: 10_000 })) throw new Error("The worker reserve did not warm up in 10 s");
      const ms = await timeParties(ctl, 2);
      await Promise.all(ps.map((p: Loose) => p.join()));
      for (const p of ps) if (p.exitCode !== 0) throw new Error(`dictOps process exited with ${p.exitCode}`);
      return (2 * 2 * n) / (ms / 1e3);
    });
    return { manager_dict_ops: one, manager_dict_ops_2w: two };
  } finally {
    await manager.shutdown();
  }
}

// OS children boot for 50-300 ms, and warm and cold runs alike wait for that many boots:
// half the starts per run keep the pair within one workload's time budget.
async function processContextStartJoin(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const ctx = mod.getContext("process");
  const empty = taskRef(mod, TASKS, "empty");
  const n = Math.ceil(s.start_join_n / 2);
  const [warm, cold] = await startJoinWarmCold(mod, s, () => new ctx.Process({ target: empty }), n);
  return { process_ctx_start_join: warm, process_ctx_start_join_cold: cold };
}

// The process context: OS children, their pool, and a queue its maker serves on a Unix socket.
async function processContext(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const ctx = mod.getContext("process");
  const noop = taskRef(mod, TASKS, "noop");
  const pool = new ctx.Pool({ processes: 2 });
  let chunk1: number;
  try {
    await pool.map(noop, range(500), { chunksize: 1 });
    const items = range(s.map_chunk1_n);
    chunk1 = await medianOf(s.reps, async () => {
      const ms = await timeMs(async () => check(await pool.map(noop, items, { chunksize: 1 }), items.length));
      return items.length / (ms / 1e3);
    });
  } finally {
    await pool.terminate();
  }
  const n = s.process_queue_n;
  const queue = await medianOf(s.reps, async () => {
    const [q, ctl] = [await ctx.Queue(), await ctx.Queue()];
    const p = new ctx.Process({ target: taskRef(mod, IPC, "queueProduceAsync"), args: [q, ctl, n] });
    p.start();
    await ctl.get();
    const t = performance.now();
    await ctl.put("go");
    let got = 0;
    while ((await q.get()) !== null) got++;
    const ms = performance.now() - t;
    await p.join();
    if (p.exitCode !== 0 || got !== n) throw new Error(`OS producer exited with ${p.exitCode}, ${got} of ${n} items`);
    return n / (ms / 1e3);
  });
  const childGet = await medianOf(s.reps, async () => {
    const [q, up, down] = [await ctx.Queue(), await ctx.Queue(), await ctx.Queue()];
    for (let i = 0; i < n; i++) await q.put(i);
    const p = new ctx.Process({ target: taskRef(mod, IPC, "queueConsumeAsync"), args: [q, up, down, n] });
    p.start();
    await up.get();
    const t = performance.now();
    await down.put("go");
    await up.get();
    const ms = performance.now() - t;
    await p.join();
    if (p.exitCode !== 0 || (await q.qsize()) !== 0) throw new Error(`OS consumer exited with ${p.exitCode}`);
    return n / (ms / 1e3);
  });
  return { process_ctx_pool_map_chunk1: chunk1, process_ctx_queue_small: queue, process_ctx_queue_child_get: childGet };
}

/** Every workload of ours. Queue and Pipe figures wait for ipc/. */
export const WORKLOADS: readonly Workload[] = [
  {
    ids: ["process_start_join", "process_start_join_cold"],
    needs: ["Process", "task", "warmReserve", "setReserve"],
    run: startJoin,
  },
  { ids: ["pool_idle_mib_per_worker"], needs: ["Pool", "task", "setReserve"], run: poolIdleMemory },
  {
    ids: [
      "pool_map_chunk1",
      "pool_map_chunk1_cpu",
      "pool_map_default",
      "apply_roundtrip",
      "apply_roundtrip_cpu",
      "cpu_speedup",
      "pool_map_varied",
    ],
    needs: ["Pool", "task"],
    run: poolFigures,
  },
  { ids: ["pool_imap_chunk1"], needs: ["Pool", "task"], run: imapChunk1 },
  { ids: ["executor_map", "executor_map_cpu"], needs: ["ProcessPoolExecutor", "task"], run: executorMap },
  { ids: ["queue_small", "queue_10mb", "queue_empty_bytes"], needs: ["Queue", "Process", "task"], run: queueFigures },
  { ids: ["pipe_small"], needs: ["Pipe", "Process", "task"], run: pipeSmall },
  { ids: ["lock_uncontended"], needs: ["Lock"], run: lockUncontended },
  { ids: ["value_locked_incr"], needs: ["Value", "Process", "task"], run: valueIncr },
  { ids: ["lock_contended_incr"], needs: ["Lock", "Process", "task"], run: lockContended },
  { ids: ["rwlock_read_mix"], needs: ["RWLock", "Process", "task"], run: rwMix },
  { ids: ["array_fill_sum"], needs: ["SharedArray", "Process", "task"], run: arrayFillSum },
  { ids: ["shm_attach", "shm_attach_rss"], needs: ["SharedMemory", "Process", "task"], run: shmAttach },
  {
    ids: ["process_ctx_pool_map_chunk1", "process_ctx_queue_small", "process_ctx_queue_child_get"],
    needs: ["getContext", "task"],
    run: processContext,
  },
  {
    ids: ["process_ctx_start_join", "process_ctx_start_join_cold"],
    needs: ["getContext", "task", "warmReserve", "setReserve"],
    run: processContextStartJoin,
  },
  {
    ids: ["manager_dict_ops", "manager_dict_ops_2w"],
    needs: ["Manager", "Process", "task", "warmReserve"],
    run: managerDict,
  },
  {
    ids: ["distributed_map", "distributed_map_chunked", "distributed_roundtrip"],
    needs: ["task"],
    run: distributedFigures,
  },
];

/**
 * Start one producer process on `target` in IPC, wait until it is ready, then time
 * `consume` on this thread from the moment the producer may begin (Python's with_producer).
 */
async function withProducer(
  mod: Mod,
  target: string,
  args: (sab: SharedArrayBuffer) => unknown[],
  consume: () => Promise<void>,
) {
  const { sab, ctl } = controlBlock();
  const p = new mod.Process({ target: taskRef(mod, IPC, target), args: args(sab) });
  p.start();
  while (Atomics.load(ctl, 3) < 1) await new Promise((resolve) => setTimeout(resolve, 1));
  const t = performance.now();
  Atomics.store(ctl, 2, 1);
  Atomics.notify(ctl, 2);
  await consume();
  const ms = performance.now() - t;
  await p.join();
  if (p.exitCode !== 0) throw new Error(`${target} process exited with ${p.exitCode}`);
  return ms;
}

// The consumer is the main thread with the async get a JS main thread would use.
async function queueFigures(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const small = await medianOf(s.reps, async () => {
    const q = new mod.Queue();
    let got = 0;
    const ms = await withProducer(mod, "queueProduce", (sab) => [q, sab, s.queue_n], async () => {
      while ((await q.get()) !== null) got++;
    });
    if (got !== s.queue_n) throw new Error(`Queue delivered ${got} of ${s.queue_n} items`);
    return s.queue_n / (ms / 1e3);
  });
  const big = await medianOf(s.reps, async () => {
    const q = new mod.Queue();
    const ms = await withProducer(mod, "queueProduceBig", (sab) => [q, sab, s.big_bytes, s.big_count], async () => {
      for (let i = 0; i < s.big_count; i++) {
        const item = await q.get();
        if (item.byteLength !== s.big_bytes) throw new Error(`Queue delivered ${item.byteLength} bytes`);
      }
    });
    return ms / s.big_count;
  });
  return { queue_small: small, queue_10mb: big, queue_empty_bytes: mod.EMPTY_QUEUE_BYTES };
}

async function pipeSmall(mod: Mod, s: Sizes): Promise<Record<string, number>> {
  const tput = await medianOf(s.reps, async () => {
    const [reader, writer] = mod.Pipe({ duplex: false });
    let got = 0;
    const ms = await withProducer(mod, "pipeProduce", (sab) => [writer, sab, s.pipe_n], async () => {
      writer.close();
      while ((await reader.recv()) !== null) got++;
    });
    reader.close();
    if (got !== s.pipe_n) throw new Error(`Pipe delivered ${got} of ${s.pipe_n} messages`);
    return s.pipe_n / (ms / 1e3);
  });
  return { pipe_small: tput };
}

/** The library under test, and where it came from. */
export interface Library {
  mod: Mod;
  /** URL of the module `mod` was imported from, for the workloads that run it in a fresh process. */
  url: string;
  from: string;
  cleanup(): void;
}

/**
 * Deno and Bun run the TypeScript source. Node cannot load `.ts` in a worker without tsx, which
 * every worker would then load first; users on Node run the compiled package, so on Node we
 * measure a fresh build of this very source (as `npm run build` makes it, into a temp dir), and
 * fall back to the source through tsx, saying so, if the build fails.
 */
export async function loadLibrary(log: (line: string) => void): Promise<Library> {
  const source = { from: "the TypeScript source", cleanup() {} };
  const sourceUrl = new URL("../mod.ts", import.meta.url).href;
  if (runtime.name !== "node") return { mod: await import(sourceUrl), url: sourceUrl, ...source };
  const out = mkdtempSync(join(tmpdir(), "mproc-bench-build-"));
  const cleanup = () => rmSync(out, { recursive: true, force: true });
  const tsc = fileURLToPath(new URL("../node_modules/.bin/tsc", import.meta.url));
  const config = fileURLToPath(new URL("../tsconfig.build.json", import.meta.url));
  const r = spawnSync(tsc, ["-p", config, "--outDir", out, "--declaration", "false"], { encoding: "utf8" });
  if (r.status !== 0) {
    cleanup();
    log(`ours: the build failed, so the TypeScript source is measured through tsx: ${r.stdout}${r.stderr}`);
    return {
      mod: await import(sourceUrl),
      url: sourceUrl,
      from: "the TypeScript source through tsx (the build failed)",
      cleanup() {},
    };
  }
  // Outside the project the compiled .js files need their own "type": "module".
  writeFileSync(join(out, "package.json"), JSON.stringify({ type: "module" }));
  const url = pathToFileURL(join(out, "mod.js")).href;
  return { mod: await import(url), url, from: "a fresh build of the source", cleanup };
}

/** Run every workload whose exports exist; the others yield null and a reason. */
export async function measureOurs(
  s: Sizes,
  log: (line: string) => void,
  only: ReadonlySet<string> | null = null,
): Promise<{ figures: Record<string, number | null>; notes: Record<string, string> }> {
  const figures: Record<string, number | null> = {};
  const notes: Record<string, string> = {};
  let lib: Library;
  try {
    lib = await loadLibrary(log);
  } catch (error) {
    // A half-landed module elsewhere in the tree must not take the raw, Python and peer
    // figures down with it.
    for (const w of WORKLOADS) for (const id of w.ids) [figures[id], notes[id]] = [null, `mod.ts failed to load`];
    log(`ours skipped: mod.ts failed to load: ${(error as Error).message}`);
    return { figures, notes };
  }
  notes.ours = `measured from ${lib.from}`;
  libraryUrl = lib.url;
  const mod = lib.mod;
  try {
    await runWorkloads(mod, s, log, figures, notes, only);
  } finally {
    lib.cleanup();
  }
  return { figures, notes };
}

async function runWorkloads(
  mod: Mod,
  s: Sizes,
  log: (line: string) => void,
  figures: Record<string, number | null>,
  notes: Record<string, string>,
  only: ReadonlySet<string> | null,
): Promise<void> {
  for (const w of WORKLOADS) {
    if (only !== null && !w.ids.some((id) => only.has(id))) continue;
    const missing = w.needs.filter((name) => !(name in mod));
    const skip = (reason: string) => {
      for (const id of w.ids) [figures[id], notes[id]] = [null, reason];
      log(`ours ${w.ids.join(", ")}: skipped (${reason})`);
    };
    if (missing.length > 0) {
      skip(`mod.ts does not export ${missing.join(", ")} yet`);
      continue;
    }
    try {
      Object.assign(figures, await bounded(`ours ${w.ids[0]}`, s.budget_ms, () => w.run(mod, s)));
      log(`ours ${w.ids.map((id) => `${id}=${figures[id]?.toPrecision(4)}`).join(" ")}`);
    } catch (error) {
      skip(`failed: ${(error as Error).message}`);
    }
  }
}

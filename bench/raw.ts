// Physical limits: the runtime's own primitives doing each job with no library around them.
// Ours can approach these, never beat them (a figure above its limit means noise).
import type { Worker } from "node:worker_threads";
import { POOL_FIGURES, pythonChunksize, type Sizes } from "./_config.ts";
import {
  bounded,
  controlBlock,
  exited,
  medianOf,
  mediansOf,
  range,
  rawWorker,
  runFresh,
  speedup,
  startWorker,
  taskFile,
  timeMs,
  timeParties,
  timeWallCpu,
} from "./_measure.ts";

type Figures = Record<string, number | null>;

/** Two echo workers answering `{ id, fn, x }` requests by postMessage: the floor for any pool. */
class EchoPair {
  #workers: Worker[];
  #pending = new Map<number, (r: unknown) => void>();
  #next = 0;

  constructor() {
    this.#workers = [rawWorker("echo"), rawWorker("echo")];
    for (const w of this.#workers) {
      w.on("message", (m: { id: number; r: unknown }) => {
        this.#pending.get(m.id)!(m.r);
        this.#pending.delete(m.id);
      });
    }
  }

  /** Run `fn(x)` on the next worker, round robin. */
  call(fn: string, x: unknown): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#workers[id & 1].postMessage({ id, fn, x });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

async function startJoin(s: Sizes): Promise<number> {
  return await medianOf(s.reps, async () => {
    const ms = await timeMs(async () => {
      for (let i = 0; i < s.start_join_n; i++) {
        await exited(startWorker(taskFile("empty_worker.mjs"), null));
      }
    });
    return ms / s.start_join_n;
  });
}

// RSS growth of a fresh process for 4 bare workers that have started and wait: the floor
// for the memory of an idle pool worker on this runtime.
async function idleMemory(s: Sizes): Promise<number> {
  return await medianOf(s.reps, () => (runFresh(taskFile("idle_memory.mjs"), ["raw"]) as { mib: number }).mib);
}

async function poolFigures(s: Sizes, out: Figures): Promise<void> {
  const pair = new EchoPair();
  try {
    const chunk1 = range(s.map_chunk1_n);
    [out.pool_map_chunk1, out.pool_map_chunk1_cpu] = await mediansOf(s.reps, async () => {
      const { wall, cpu } = await timeWallCpu(() => Promise.all(chunk1.map((x) => pair.call("noop", x))));
      return [chunk1.length / (wall / 1e3), (cpu * 1e3) / chunk1.length];
    });
    out.executor_map = out.pool_map_chunk1;
    out.executor_map_cpu = out.pool_map_chunk1_cpu;
    out.pool_map_default = await medianOf(s.reps, async () => {
      const ms = await timeMs(() => chunkedMap(pair, s.map_default_n));
      return s.map_default_n / (ms / 1e3);
    });
    [out.apply_roundtrip, out.apply_roundtrip_cpu] = await mediansOf(s.reps, async () => {
      const { wall, cpu } = await timeWallCpu(async () => {
        for (let i = 0; i < s.apply_n; i++) await pair.call("noop", i);
      });
      return [(wall * 1e3) / s.apply_n, (cpu * 1e3) / s.apply_n];
    });
    const work = new Array<number>(s.fib_count).fill(s.fib_n);
    out.cpu_speedup = await speedup(s.reps, work, () => Promise.all(work.map((n) => pair.call("fib", n))));
  } finally {
    await pair.close();
  }
}

// Python's default chunking, done by hand: the best a pool could do for a default-chunk map.
async function chunkedMap(pair: EchoPair, n: number): Promise<unknown[]> {
  const size = pythonChunksize(n, 2);
  const items = range(n);
  const chunks: Promise<unknown>[] = [];
  for (let i = 0; i < n; i += size) chunks.push(pair.call("mapChunk", items.slice(i, i + size)));
  return (await Promise.all(chunks)).flat();
}

// SPSC ring between two workers with JSON-encoded numbers: the ceiling for a SAB queue.
async function queueSmall(s: Sizes): Promise<number> {
  return await medianOf(s.reps, async () => {
    const { sab, ctl } = controlBlock(1 << 20);
    const ws = [rawWorker("ringProducer", { sab, n: s.queue_n }), rawWorker("ringConsumer", { sab, n: s.queue_n })];
    const ms = await timeParties(ctl, 2);
    await Promise.all(ws.map(exited));
    return s.queue_n / (ms / 1e3);
  });
}

// A 10 MB message from one worker to another through shared memory: copy in, hand off, copy
// out (tasks/raw_worker.mjs bigProducer/bigConsumer), timed from the shared go signal.
async function queueBig(s: Sizes): Promise<number> {
  return await medianOf(s.reps, async () => {
    const { sab, ctl } = controlBlock(s.big_bytes);
    const data = { sab, size: s.big_bytes, count: s.big_count };
    const ws = [rawWorker("bigProducer", data), rawWorker("bigConsumer", data)];
    const ms = await timeParties(ctl, 2);
    await Promise.all(ws.map(exited));
    return ms / s.big_count;
  });
}

// A one-way postMessage burst from a worker: the floor for a message-based pipe.
async function pipeSmall(s: Sizes): Promise<number> {
  return await medianOf(s.reps, async () => {
    const w = rawWorker("stream", { n: s.pipe_n });
    await new Promise((resolve) => w.once("message", resolve));
    const done = new Promise<void>((resolve) => w.on("message", (m) => m === null && resolve()));
    const ms = await timeMs(() => {
      w.postMessage("go");
      return done;
    });
    await exited(w);
    return s.pipe_n / (ms / 1e3);
  });
}

function lockUncontended(s: Sizes): Promise<number> {
  const a = new Int32Array(new SharedArrayBuffer(8));
  return medianOf(s.reps, () => {
    const t = performance.now();
    for (let i = 0; i < s.lock_n; i++) {
      if (Atomics.compareExchange(a, 0, 0, 1) !== 0) throw new Error("Uncontended lock was held");
      Atomics.store(a, 0, 0);
    }
    return ((performance.now() - t) * 1e6) / s.lock_n;
  });
}

// Two workers, one futex lock, one counter: the floor for any locked shared increment.
async function lockedIncr(s: Sizes): Promise<number> {
  return await medianOf(s.reps, async () => {
    const { sab, ctl } = controlBlock();
    const ws = [0, 1].map(() => rawWorker("lockIncr", { sab, n: s.incr_n }));
    const ms = await timeParties(ctl, 2);
    await Promise.all(ws.map(exited));
    if (ctl[7] !== 2 * s.incr_n) throw new Error(`Raw locked counter lost updates: ${ctl[7]}`);
    return (2 * s.incr_n) / (ms / 1e3);
  });
}

async function rwMix(s: Sizes): Promise<number> {
  return await medianOf(s.reps, async () => {
    const { sab, ctl } = controlBlock();
    const ws = [0, 1].map(() => rawWorker("rwMix", { sab, n: s.rw_n, writeEvery: s.rw_write_every }));
    const ms = await timeParties(ctl, 2);
    await Promise.all(ws.map(exited));
    const writes = 2 * Math.ceil(s.rw_n / s.rw_write_every);
    if (ctl[7] !== writes) throw new Error(`Raw RW lock lost writes: ${ctl[7]} !== ${writes}`);
    return (2 * s.rw_n) / (ms / 1e3);
  });
}

// Round trips from `clients` threads through one server thread (tasks/raw_worker.mjs
// pingServer): the floor for a manager call, with nothing encoded or dispatched.
async function pingRoundTrips(s: Sizes, clients: number): Promise<number> {
  const n = 2 * s.manager_ops_n;
  return await medianOf(s.reps, async () => {
    const { sab, ctl } = controlBlock(64 * (clients + 1));
    const server = rawWorker("pingServer", { sab, clients });
    const ws = Array.from({ length: clients }, (_, slot) => rawWorker("pingClient", { sab, slot, n }));
    const ms = await timeParties(ctl, clients);
    await Promise.all(ws.map(exited));
    const words = new Int32Array(sab, 32);
    Atomics.store(words, 2, 1);
    Atomics.add(words, 0, 1);
    Atomics.notify(words, 0);
    await exited(server);
    return (clients * n) / (ms / 1e3);
  });
}

/** Measure every raw limit. */
export async function measureRaw(
  s: Sizes,
  log: (line: string) => void,
  only: ReadonlySet<string> | null = null,
): Promise<Figures> {
  const out: Figures = {};
  // `alias`: another figure this one stands for, so `--only alias` measures it too.
  const step = async (id: string, f: () => Promise<number>, alias?: string) => {
    if (only !== null && !only.has(id) && !(alias !== undefined && only.has(alias))) return;
    try {
      out[id] = await bounded(`raw ${id}`, s.budget_ms, f);
      log(`raw ${id}: ${out[id]!.toPrecision(4)}`);
    } catch (error) {
      out[id] = null;
      log(`raw ${id} failed: ${(error as Error).message}`);
    }
  };
  await step("process_start_join", () => startJoin(s), "process_start_join_cold");
  // A worker started on demand is the floor of both: a reserve worker was started the same way.
  if (out.process_start_join !== undefined) out.process_start_join_cold = out.process_start_join;
  await step("pool_idle_mib_per_worker", () => idleMemory(s));
  if (only === null || POOL_FIGURES.some((id) => only.has(id))) {
    await bounded("raw pool figures", s.budget_ms, () => poolFigures(s, out)).catch((e) => log(e.message));
    log(`raw pool figures: ${JSON.stringify(out)}`);
  }
  await step("queue_small", () => queueSmall(s));
  await step("queue_10mb", () => queueBig(s));
  await step("pipe_small", () => pipeSmall(s));
  await step("lock_uncontended", () => lockUncontended(s));
  await step("value_locked_incr", () => lockedIncr(s), "lock_contended_incr");
  if (out.value_locked_incr !== undefined) out.lock_contended_incr = out.value_locked_incr;
  await step("rwlock_read_mix", () => rwMix(s));
  await step("manager_dict_ops", () => pingRoundTrips(s, 1));
  await step("manager_dict_ops_2w", () => pingRoundTrips(s, 2));
  return out;
}

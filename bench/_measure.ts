// Timing helpers. One rule for every figure: warm up, then take the median of `reps` runs.
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { fib } from "./tasks/task.mjs";

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Run `once` once to warm up, then `reps` times; `once` returns the figure for that run. */
export async function medianOf(reps: number, once: () => number | Promise<number>): Promise<number> {
  await once();
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(await once());
  return median(xs);
}

/**
 * Speedup of `parallel` over serial fib work in this thread. Each repetition times both back
 * to back and keeps their ratio, so load from other programs on the machine hits both sides
 * of one ratio alike; the median of `2 * reps + 1` ratios (the runs are short) is reported.
 */
export async function speedup(reps: number, work: number[], parallel: () => Promise<unknown>): Promise<number> {
  return await medianOf(2 * reps + 1, async () => {
    const serial = await timeMs(() => work.map(fib));
    return serial / await timeMs(parallel);
  });
}

/** Median of each of the two numbers `once` returns, after one warm-up run; see {@linkcode medianOf}. */
export async function mediansOf(
  reps: number,
  once: () => Promise<[number, number]>,
): Promise<[number, number]> {
  await once();
  const xs: [number, number][] = [];
  for (let i = 0; i < reps; i++) xs.push(await once());
  return [median(xs.map((x) => x[0])), median(xs.map((x) => x[1]))];
}

/**
 * Wall and CPU time of `f`, in ms. The CPU time is the whole process's (every thread: the
 * workers of ours, a peer's or the raw pair all live in this process), so a pool that spins
 * while it waits pays for it here.
 */
export async function timeWallCpu(f: () => unknown): Promise<{ wall: number; cpu: number }> {
  const c = process.cpuUsage();
  const t = performance.now();
  await f();
  const wall = performance.now() - t;
  const d = process.cpuUsage(c);
  return { wall, cpu: (d.user + d.system) / 1e3 };
}

/** Milliseconds taken by `f`. */
export async function timeMs(f: () => unknown): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

/** `[0, 1, …, n-1]`. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** URL of a file in bench/tasks/. */
export function taskFile(name: string): URL {
  return new URL(`./tasks/${name}`, import.meta.url);
}

// Exit promises made at spawn: a worker may end before anyone asks, and its exit event
// would be missed by a listener attached later.
const exits = new WeakMap<Worker, Promise<void>>();

/** Start a worker_threads worker (the one Worker API all three runtimes share). */
export function startWorker(file: URL, workerData: unknown): Worker {
  const w = new Worker(file, { workerData });
  exits.set(w, new Promise((resolve) => w.once("exit", () => resolve())));
  return w;
}

/** Start a raw-limit worker in the given role (see tasks/raw_worker.mjs). */
export function rawWorker(mode: string, data: Record<string, unknown> = {}): Worker {
  return startWorker(taskFile("raw_worker.mjs"), { mode, ...data });
}

// Control words shared with the worker side (tasks/raw_worker.mjs, tasks/contend.mjs).
const GO = 2;
const READY = 3;
const DONE = 4;

/** A control block for workloads where several threads start together on a signal. */
export function controlBlock(extraBytes = 0): { sab: SharedArrayBuffer; ctl: Int32Array } {
  const sab = new SharedArrayBuffer(32 + extraBytes);
  return { sab, ctl: new Int32Array(sab, 0, 8) };
}

// Wait without blocking this thread: the library's main thread must keep serving its
// workers' messages while we wait, so Atomics.wait is out.
// Node's waitAsync does not keep the event loop alive, so a timer does while we wait.
async function untilAtLeast(ctl: Int32Array, index: number, count: number): Promise<void> {
  const waitAsync = (Atomics as { waitAsync?: typeof Atomics.waitAsync }).waitAsync;
  const keepAlive = setInterval(() => {}, 1000);
  try {
    for (let v = Atomics.load(ctl, index); v < count; v = Atomics.load(ctl, index)) {
      if (waitAsync) {
        const r = waitAsync(ctl, index, v, 100);
        if (r.async) await r.value;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  } finally {
    clearInterval(keepAlive);
  }
}

/**
 * Time `parties` threads that have already been started on `ctl`: wait until all are ready,
 * release them together, and stop the clock when the last one reports done.
 */
export async function timeParties(ctl: Int32Array, parties: number): Promise<number> {
  await untilAtLeast(ctl, READY, parties);
  const t = performance.now();
  Atomics.store(ctl, GO, 1);
  Atomics.notify(ctl, GO);
  await untilAtLeast(ctl, DONE, parties);
  return performance.now() - t;
}

/** Resolve when a worker from {@linkcode startWorker} has exited. */
export function exited(w: Worker): Promise<void> {
  return exits.get(w)!;
}

/**
 * Run `f`, failing after `ms`. A hung contestant then costs one figure, not the whole run;
 * the pending timer also keeps Node's event loop alive while a library waits on
 * `Atomics.waitAsync`, which does not.
 */
export async function bounded<T>(what: string, ms: number, f: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      f(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1e3} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run `file` (a bench/tasks module) with `args` in a fresh process of this runtime and
 * return the JSON it prints last.
 */
export function runFresh(file: URL, args: string[]): unknown {
  const path = fileURLToPath(file);
  const argv = "Deno" in globalThis ? ["run", "-A", path, ...args] : [path, ...args];
  const r = spawnSync(process.execPath, argv, { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${path} exited with ${r.status}: ${r.stderr.trim().slice(-500)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

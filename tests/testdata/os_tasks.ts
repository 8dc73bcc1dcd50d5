// Targets for the "process" start method tests. An OS child shares no memory with the
// test, so it reports through a file the test names.
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import process from "node:process";
import { currentProcess, parentProcess } from "../../process/mod.ts";

/** Write what this child knows about itself to `file`. */
export function report(file: string, extra: unknown = null): void {
  const me = currentProcess();
  const parent = parentProcess();
  writeFileSync(
    file,
    JSON.stringify({
      pid: me.pid,
      ident: me.ident,
      name: me.name,
      daemon: me.daemon,
      osPid: process.pid,
      parent: parent && { name: parent.name, pid: parent.pid, alive: parent.isAlive() },
      extra,
    }, (_, v) => typeof v === "bigint" ? `${v}n` : v instanceof Map ? { map: [...v] } : v),
  );
}

/** Write `file` to say it runs, then stay alive until stopped. */
export function runForever(file: string): void {
  writeFileSync(file, String(process.pid));
  setInterval(() => {}, 1_000);
}

/** Write `file`, then end this whole OS process by `process.abort()`, as a native crash would. */
export function abort(file: string): void {
  writeFileSync(file, String(process.pid));
  process.abort();
}

/**
 * Return at once, leaving work behind: exit code `code`, a timer that appends "timer" to
 * `file`, and a `beforeExit` listener that appends "beforeExit" from a timer of its own.
 */
export function leaveWork(file: string, code: number): void {
  process.exitCode = code;
  setTimeout(() => appendFileSync(file, "timer "), 50);
  process.once("beforeExit", () => setTimeout(() => appendFileSync(file, "beforeExit"), 10));
}

/** Throw an error the parent rebuilds with this stack. */
export function throwFrom(message: string): void {
  throw new TypeError(message);
}

/** Print `text` after `ms` milliseconds. */
export async function printLater(ms: number, text: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  console.log(text);
}

/** This worker's OS pid. */
export function osPid(): number {
  return process.pid;
}

/** End this whole OS process at once, as a native crash would. */
export function abortNow(): never {
  process.abort();
}

/** Write this worker's pid to `file`, then hang until stopped from outside. */
export function hangWithPid(file: string): Promise<never> {
  writeFileSync(file, String(process.pid));
  return new Promise(() => setInterval(() => {}, 1_000));
}

/** Add 1 to `counts.total` `n` times under `lock`, and record this process's share. */
export async function countUnder(
  counts: { get(k: string, d?: number): Promise<number | undefined>; set(k: string, v: number): Promise<void> },
  lock: { acquire(): Promise<boolean>; release(): Promise<void> },
  n: number,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    try {
      await counts.set("total", ((await counts.get("total", 0)) ?? 0) + 1);
    } finally {
      await lock.release();
    }
  }
  await counts.set(`pid${process.pid}`, n);
}

let kept: { set(k: string, v: number): Promise<void> } | undefined;

/** Pool initializer: keep a manager dict proxy for the tasks of this worker. */
export function keep(counts: { set(k: string, v: number): Promise<void> }): void {
  kept = counts;
}

/** Record this worker's pid under `key` in the kept dict. */
export async function recordPid(key: string): Promise<void> {
  await kept!.set(key, process.pid);
}

interface ItemQueue<T> extends AsyncIterable<T> {
  put(item: T): Promise<void>;
  get(): Promise<T>;
}

/** Put `n` numbers from `from` on `queue`. */
export async function produce(queue: ItemQueue<number>, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) await queue.put(i);
}

/** Take numbers from `queue` until it is closed and empty, then put what it took on `results`. */
export async function consume(queue: ItemQueue<number>, results: ItemQueue<number[]>): Promise<void> {
  const taken: number[] = [];
  for await (const item of queue) taken.push(item);
  await results.put(taken);
}

/** Put `item` on a queue the parent closed: report the error's class and message in `file`. */
export async function putOnClosed(queue: ItemQueue<string>, file: string): Promise<void> {
  let drained: unknown[] = [];
  const errors: string[] = [];
  try {
    drained = [await queue.get(), await queue.get()];
    await queue.get();
  } catch (error) {
    errors.push(`${(error as Error).name}: ${(error as Error).message}`);
  }
  try {
    await queue.put("late");
  } catch (error) {
    errors.push(`${(error as Error).name}: ${(error as Error).message}`);
  }
  writeFileSync(file, JSON.stringify({ drained, errors }));
}

/** Take `n` items from a joinable queue, marking each done, and echo them on `out`. */
export async function work(
  queue: ItemQueue<number> & { taskDone(): Promise<void> },
  out: ItemQueue<number>,
  n: number,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    await out.put((await queue.get()) * 10);
    await queue.taskDone();
  }
}

let queues: [ItemQueue<number> & { taskDone(): Promise<void> }, ItemQueue<number>] | undefined;

/** Pool initializer: keep the jobs and output queues for {@linkcode workKept}. */
export function keepQueues(jobs: ItemQueue<number> & { taskDone(): Promise<void> }, out: ItemQueue<number>): void {
  queues = [jobs, out];
}

/** {@linkcode work} on the queues the initializer kept. */
export function workKept(n: number): Promise<void> {
  return work(queues![0], queues![1], n);
}

/** Write this worker's pid to `started`, wait until `release` exists, then return the pid. */
export async function pidWhenReleased(started: string, release: string): Promise<number> {
  writeFileSync(started, String(process.pid));
  while (!existsSync(release)) await new Promise((resolve) => setTimeout(resolve, 10));
  return process.pid;
}

/** Keep allocating until this process runs out of memory. */
export function allocateForever(): number {
  const kept: number[][] = [];
  for (;;) kept.push(new Array(100_000).fill(kept.length + 0.5));
}

/** Exit 0 when the environment variable `name` holds `value` in this child, else 3. */
export function exitUnlessEnv(name: string, value: string): void {
  if (process.env[name] !== value) process.exit(3);
}

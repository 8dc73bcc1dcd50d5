// Worker targets for the pool tests.
import { currentProcess, exit } from "../../process/mod.ts";
import type { Lock } from "../../sync/lock.ts";
import type { Box } from "./box.ts";

export function identity<T>(x: T): T {
  return x;
}

export function square(x: number): number {
  return x * x;
}

export function add(a: number, b: number): number {
  return a + b;
}

export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export async function sleepy(ms: number, value: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return value;
}

export async function double(x: number): Promise<number> {
  await Promise.resolve();
  return x * 2;
}

/** Spin without yielding: only stopping the worker ends it early. */
export function spin(ms: number): number {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
}

export function exitWith(code: number): never {
  return exit(code);
}

/** Return `i`, except every 10th item, which ends its worker with code 3. */
export function exitEveryTenth(i: number): number {
  if (i % 10 === 9) exit(3);
  return i;
}

export class CustomError extends Error {
  readonly detail: string;
  constructor(message: string, detail: string) {
    super(message);
    this.name = "CustomError";
    this.detail = detail;
  }
}

export function failCustom(message: string): never {
  throw new CustomError(message, "detail");
}

export function failRange(message: string): never {
  throw new RangeError(message);
}

export function whoAmI(_item?: unknown): number {
  return currentProcess().ident;
}

let initCalls = 0;
let initValue: unknown = null;

export function init(value: unknown): void {
  initCalls++;
  initValue = value;
}

export function initState(_item?: unknown): { ident: number; calls: number; value: unknown } {
  return { ident: currentProcess().ident, calls: initCalls, value: initValue };
}

export function initFails(): never {
  throw new Error("initializer failed on purpose");
}

export function returnsFunction(): () => void {
  return () => {};
}

/** Block until word 0 of `gate` is non-zero (the test opens it), then return `value`. */
export function gated<T>(gate: SharedArrayBuffer, value: T): T {
  const word = new Int32Array(gate);
  Atomics.wait(word, 0, 0, 30_000);
  return value;
}

/** Block until word 0 of `gate` is non-zero; for map-style calls. */
export function blockOn(gate: SharedArrayBuffer): number {
  return Atomics.wait(new Int32Array(gate), 0, 0, 30_000) === "ok" ? 1 : 0;
}

/** A task with no arguments, for `apply` without an argument list. */
export function answer(): number {
  return 42;
}

let shared: { lock: Lock; counter: Int32Array } | undefined;

/** Initializer: keep a lock and a counter that arrived through initargs. */
export function initShared(lock: Lock, buffer: SharedArrayBuffer): void {
  shared = { lock, counter: new Int32Array(buffer) };
}

/** Add 1 to the shared counter `n` times, each under the shared lock; the plain `++` is not atomic. */
export function lockedIncrement(n: number): number {
  for (let i = 0; i < n; i++) {
    using _ = shared!.lock.holdSync();
    shared!.counter[0]++;
  }
  return n;
}

/** Whether `lock` is held: a live lock answers, a copy without its methods throws. */
export function isHeld(lock: Lock): boolean {
  return lock.locked();
}

/** The same with the lock and counter passed as arguments. */
export function incrementWith(lock: Lock, buffer: SharedArrayBuffer, n: number): number {
  const counter = new Int32Array(buffer);
  for (let i = 0; i < n; i++) {
    using _ = lock.holdSync();
    counter[0]++;
  }
  return counter.length;
}

/** Raise flag 0 of `box` (the task is running), then block until flag 1 is raised; return `value`. */
export function startThenBlock<T>(box: Box, value?: T): T | undefined {
  box.raise(0);
  box.untilSync(1, 30_000);
  return value;
}

/** Square `x`, or throw a RangeError for a negative `x`: a map input with failures at known places. */
export function squareOrFail(x: number): number {
  if (x < 0) throw new RangeError(`negative: ${x}`);
  return x * x;
}

/** Count the call in word 0 of `counter`; item 1 then blocks until word 1 is set. Returns `i`. */
export function tally(counter: SharedArrayBuffer, i: number): number {
  const c = new Int32Array(counter);
  Atomics.add(c, 0, 1);
  if (i === 1) Atomics.wait(c, 1, 0, 30_000);
  return i;
}

/** Return `x` once word 0 of `gate` is set; other items return at once. For completion order. */
export function afterGate({ gate, x }: { gate: SharedArrayBuffer; x: number }): number {
  if (x === 0) Atomics.wait(new Int32Array(gate), 0, 0, 30_000);
  return x;
}

/**
 * Count this call in word 0 of `buffer` (waking waiters on it), then, unless the call is
 * among the first word-2 calls, block until word 1 is non-zero. Returns the call's number.
 */
export function countThenWait(buffer: SharedArrayBuffer): number {
  const words = new Int32Array(buffer);
  const n = Atomics.add(words, 0, 1);
  Atomics.notify(words, 0);
  if (n >= Atomics.load(words, 2)) Atomics.wait(words, 1, 0, 30_000);
  return n;
}

/** Spin `ms` (0 returns at once), count the call in word `i` of `counts`, and say which worker ran it. */
export function costly(counts: SharedArrayBuffer, i: number, ms: number): number {
  Atomics.add(new Int32Array(counts), i, 1);
  if (ms > 0) spin(ms);
  return currentProcess().ident;
}

const retained: unknown[] = [];

/**
 * Keep `count` small objects alive in this worker for good (about 40 bytes of heap each on
 * V8, more on Bun), for maxMemoryPerChild; returns the worker's ident.
 */
export function retain(count: number): number {
  retained.push(Array.from({ length: count }, (_, i) => ({ i })));
  return currentProcess().ident;
}

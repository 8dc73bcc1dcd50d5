// The futex core: the only code in the package that calls Atomics.wait, waitAsync or
// notify. Everything that sleeps on shared memory (locks, semaphores, barriers, pools)
// goes through these few functions, so the rules below hold everywhere:
//
// - Waits are slices of at most SLICE_MS. A caller loops, re-checking its own condition
//   and the liveness of whoever it waits for, so a lost notify or a dead owner costs one
//   slice, never a hang.
// - An async wait holds a ref'd timer for its slice: a pending Atomics.waitAsync does not
//   keep Node or Deno alive, and a program must not end while a task waits on a lock.
// - Blocking waits are refused where the runtime forbids them, with an error naming the
//   async form to use instead.
//
// Exports (kept small and stable; the pool imports them too):
//   SLICE_MS, SPIN                    bounds of one sleep and of the spin before sleeping
//   requireBlocking(sync, async)      throw TypeError when this thread may not block
//   waitSlice(view, i, value, dl)     block while view[i] === value, one slice at most
//   waitSliceAsync(view, i, value, dl, signal?)  the same without blocking; rejects on abort
//   wake(view, i, count?)             wake waiters on view[i]
import { runtime } from "../_runtime/mod.ts";
import { timeLeft } from "./deadline.ts";

/** Longest single sleep, in ms; also the delay before a dead owner is noticed by a sleeper. */
export const SLICE_MS = 20;

/** Spin iterations before sleeping: a hand-off by spinning costs 0.1 µs, a futex wake ~43 µs. */
export const SPIN = 64;

/**
 * Throw unless this thread may block in `Atomics.wait`.
 *
 * @param syncForm the method called, e.g. `"Lock.acquireSync()"`
 * @param asyncForm what to call instead, e.g. `"await lock.acquire()"`
 * @throws {TypeError} when the runtime does not let this thread block
 */
export function requireBlocking(syncForm: string, asyncForm: string): void {
  if (!runtime.canBlock) {
    throw new TypeError(`Cannot call ${syncForm} on this thread: it may not block, use ${asyncForm} instead`);
  }
}

/**
 * Block while `view[index] === value`, for one slice at most and never past `deadline`.
 * Returns whether there was time left to wait; the caller re-checks its condition either way.
 */
export function waitSlice(view: Int32Array, index: number, value: number, deadline: number): boolean {
  const left = timeLeft(deadline);
  if (left === 0) return false;
  Atomics.wait(view, index, value, left < SLICE_MS ? left : SLICE_MS);
  return true;
}

const DONE: Promise<boolean> = Promise.resolve(true);
const TIMED_OUT: Promise<boolean> = Promise.resolve(false);

/**
 * Wait without blocking while `view[index] === value`, for one slice at most and never
 * past `deadline`. Resolves with whether there was time left to wait; rejects with
 * `signal.reason` as soon as the signal fires.
 */
export function waitSliceAsync(
  view: Int32Array,
  index: number,
  value: number,
  deadline: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const left = timeLeft(deadline);
  if (left === 0) return TIMED_OUT;
  const ms = left < SLICE_MS ? left : SLICE_MS;
  const result = Atomics.waitAsync(view, index, value, ms);
  if (!result.async) return DONE;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      finish();
      reject(signal!.reason);
    };
    // The timer both keeps the program alive and ends the slice should the runtime's
    // own waitAsync timeout be late.
    const timer = setTimeout(() => {
      finish();
      resolve(true);
    }, ms + 1);
    signal?.addEventListener("abort", onAbort, { once: true });
    void result.value.then(() => {
      if (settled) return;
      finish();
      resolve(true);
    });
  });
}

/** Wake up to `count` waiters on `view[index]` (all by default); returns how many woke. */
export function wake(view: Int32Array, index: number, count: number = Infinity): number {
  return Atomics.notify(view, index, count);
}

// The owner word: one Int32 that is 0 when free, else the holder's ident plus two flag
// bits. Lock, RLock and the internal mutexes of Barrier sit on it, as CPython's locks
// sit on SemLock.
//
//   bits 0-28  ident of the holder (idents are unique for the life of the program)
//   bit 29     DIED: the previous holder ended while holding; cleared by the next release
//   bit 30     WAITERS: someone may sleep on the word, so release must wake one
//
// Robustness: a thread that finds the word held checks the liveness table (after its
// spin and after every slice of sleep, so within SLICE_MS of the death) and, when the
// holder has ended, takes the word over with one CAS, leaving DIED set.
import { checkTimeout, deadlineOf, timeLeft } from "../_internal/deadline.ts";
import { SPIN, waitSlice, waitSliceAsync, wake } from "../_internal/futex.ts";
import { isAlive } from "../_internal/shared_area.ts";
import { TimeoutError } from "../errors.ts";

/** Mask of the holder's ident in an owner word. */
export const IDENT_MASK = 0x1fffffff;
/** The previous holder ended while holding. */
export const DIED = 0x20000000;
/** Someone may sleep on the word. */
export const WAITERS = 0x40000000;

/** A deadline that means "do not wait": always in the past. */
export const NO_WAIT = 0;

/** The `{ blocking, timeout }` part of acquire options, as a deadline. */
export interface DeadlineOptions {
  blocking?: boolean;
  timeout?: number;
}

/**
 * Turn `{ blocking, timeout }` into a deadline for the futex core.
 *
 * @throws {RangeError} when the timeout is negative or NaN
 */
export function deadlineFor(options: DeadlineOptions | undefined, what: string): number {
  if (options === undefined) return Infinity;
  const { blocking = true, timeout } = options;
  checkTimeout(timeout, what);
  return blocking ? deadlineOf(timeout) : NO_WAIT;
}

/** Same for a plain `timeout` argument. */
export function deadlineForTimeout(timeout: number | undefined, what: string): number {
  checkTimeout(timeout, what);
  return deadlineOf(timeout);
}

/** One CAS: take a free word. The whole uncontended path. */
export function tryTake(w: Int32Array, i: number, me: number): boolean {
  return Atomics.compareExchange(w, i, 0, me) === 0;
}

/**
 * One step of a contended take: returns true when taken (from free or from a dead
 * holder), otherwise the word value to sleep on, or `false` when the deadline passed.
 */
function step(w: Int32Array, i: number, me: number, flag: number, deadline: number): boolean | number {
  const c = Atomics.load(w, i);
  if (c === 0) return Atomics.compareExchange(w, i, 0, me | flag) === 0 || 0;
  if (!isAlive(c & IDENT_MASK)) return Atomics.compareExchange(w, i, c, me | WAITERS | DIED) === c || 0;
  if (timeLeft(deadline) === 0) return false;
  if ((c & WAITERS) === 0 && Atomics.compareExchange(w, i, c, c | WAITERS) !== c) return 0;
  return c | WAITERS;
}

function spin(w: Int32Array, i: number, me: number, deadline: number): boolean {
  if (deadline === NO_WAIT) return false;
  for (let n = 0; n < SPIN; n++) {
    if (Atomics.load(w, i) === 0 && Atomics.compareExchange(w, i, 0, me) === 0) return true;
  }
  return false;
}

/** Take the word, blocking until `deadline`; returns false on timeout. */
export function takeSync(w: Int32Array, i: number, me: number, deadline: number): boolean {
  if (spin(w, i, me, deadline)) return true;
  let flag = 0;
  for (;;) {
    const r = step(w, i, me, flag, deadline);
    if (r === true || r === false) return r;
    if (r === 0) continue;
    // Once this thread has slept, others may sleep too: take with WAITERS so our
    // release wakes the next one.
    flag = WAITERS;
    waitSlice(w, i, r, deadline);
  }
}

/** Take the word by spinning: only for words held a few instructions at a time. */
export function takeSpinning(w: Int32Array, i: number, me: number): void {
  for (;;) if (step(w, i, me, WAITERS, Infinity) === true) return;
}

/** Take the word without blocking the thread; rejects with `signal.reason` on abort. */
export async function takeAsync(
  w: Int32Array,
  i: number,
  me: number,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (spin(w, i, me, deadline)) return true;
  let flag = 0;
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    const r = step(w, i, me, flag, deadline);
    if (r === true || r === false) return r;
    if (r === 0) continue;
    flag = WAITERS;
    await waitSliceAsync(w, i, r, deadline, signal);
  }
}

/** Free the word and wake one sleeper if any; returns the previous value (0: was not held). */
export function give(w: Int32Array, i: number): number {
  const old = Atomics.exchange(w, i, 0);
  if ((old & WAITERS) !== 0) wake(w, i, 1);
  return old;
}

// The Condition protocol: what Condition needs from the lock it wraps, under symbols so
// it stays out of the public surface.

/** Whether the calling thread holds the lock. */
export const IS_OWNED: unique symbol = Symbol("mproc.sync.isOwned");
/** Release the lock completely; returns what RESUME needs to restore the same depth. */
export const SUSPEND: unique symbol = Symbol("mproc.sync.suspend");
/** Re-take the lock at the depth SUSPEND returned, blocking. */
export const RESUME_SYNC: unique symbol = Symbol("mproc.sync.resumeSync");
/** Re-take the lock at the depth SUSPEND returned, without blocking the thread. */
export const RESUME: unique symbol = Symbol("mproc.sync.resume");

/** A lock Condition can wrap: ours, never a look-alike from elsewhere. */
export interface ConditionLock {
  [IS_OWNED](): boolean;
  [SUSPEND](): number;
  [RESUME_SYNC](depth: number): void;
  [RESUME](depth: number): Promise<void>;
}

/** A disposable that runs `release` once. */
export function disposer(release: () => void): Disposable {
  let done = false;
  return {
    [Symbol.dispose]() {
      if (done) return;
      done = true;
      release();
    },
  };
}

/** The error a `hold()` throws when its timeout passes. */
export function timedOut(what: string, timeout: number | undefined): TimeoutError {
  return new TimeoutError(`Cannot hold ${what}: it was not free within ${timeout} ms`);
}

import { timeLeft } from "../_internal/deadline.ts";
import { requireBlocking, SPIN, waitSlice, waitSliceAsync, wake } from "../_internal/futex.ts";
import { decodeSync, registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { InvalidStateError } from "../errors.ts";
import { deadlineForTimeout, IS_OWNED, RESUME, RESUME_SYNC, SUSPEND } from "./_owner.ts";
import type { SyncWaitOptions } from "./event.ts";
import { type AcquireOptions, Lock } from "./lock.ts";
import { RLock } from "./rlock.ts";

const KIND = "sync.Condition";
// Waiters count themselves in SLEEPERS; notify turns up to n of them into TOKENS, which
// a waiter may take, and bumps SEQ, the word waiters sleep on. A waiter takes tokens only
// from a notify that came after it began waiting (SEQ moved past the value it entered
// with), so a thread that notifies and then waits cannot take its own notification. A
// waiter leaves by taking a token or, on timeout, by taking back its SLEEPERS count; so
// each notify wakes at most n waiters, as in Python.
const SLEEPERS = 0;
const TOKENS = 1;
const SEQ = 2;

interface ConditionState {
  buffer: SharedArrayBuffer;
  lock: SharedState;
}

// Set only while a shared state is being revived.
let adopted: { buffer: SharedArrayBuffer; lock: Lock | RLock } | undefined;

/**
 * A condition variable, like Python's `multiprocessing.Condition`: wait until another
 * thread notifies, with the lock released while waiting. The lock defaults to a new
 * {@linkcode RLock}; pass a {@linkcode Lock} or {@linkcode RLock} of this package to share one.
 * RLock ownership is per thread, so async tasks of one thread that must exclude each
 * other need a Condition over a {@linkcode Lock}.
 *
 * @example Usage
 * ```ts
 * import { Condition } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const cond = new Condition();
 * let ready = false;
 * setTimeout(async () => {
 *   using _ = await cond.hold();
 *   ready = true;
 *   cond.notifyAll();
 * }, 1);
 * using _ = await cond.hold();
 * assert.equal(await cond.waitFor(() => ready, 5000), true);
 * ```
 */
export class Condition {
  readonly #w: Int32Array;
  readonly #lock: Lock | RLock;

  /**
   * Make a condition over `lock`.
   *
   * @param lock a {@linkcode Lock} or {@linkcode RLock} of this package; a new RLock by default
   * @throws {TypeError} when `lock` is not one of this package's locks
   */
  constructor(lock?: Lock | RLock) {
    const state = adopted;
    adopted = undefined;
    if (state !== undefined) {
      this.#w = new Int32Array(state.buffer);
      this.#lock = state.lock;
      return;
    }
    if (lock !== undefined && !(lock instanceof Lock) && !(lock instanceof RLock)) {
      throw new TypeError(
        `Cannot create a condition: the lock must be a Lock or RLock of @mproc/multiprocessing, got ${describe(lock)}`,
      );
    }
    this.#w = new Int32Array(new SharedArrayBuffer(12));
    this.#lock = lock ?? new RLock();
  }

  /** Take the underlying lock; see {@linkcode Lock.acquire}. */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /** Take the underlying lock, blocking; see {@linkcode Lock.acquireSync}. */
  acquireSync(options?: AcquireOptions): boolean {
    return this.#lock.acquireSync(options);
  }

  /** Release the underlying lock; see {@linkcode Lock.release}. */
  release(): void {
    this.#lock.release();
  }

  /** Take the underlying lock and return a disposable that releases it. */
  hold(options?: Omit<AcquireOptions, "blocking">): Promise<Disposable> {
    return this.#lock.hold(options);
  }

  /** Take the underlying lock, blocking, and return a disposable that releases it. */
  holdSync(options?: Omit<AcquireOptions, "blocking">): Disposable {
    return this.#lock.holdSync(options);
  }

  /**
   * Release the lock, wait until notified or until `timeout` ms pass, then take the lock
   * back (at the same depth, for an RLock).
   *
   * @param timeout milliseconds; `undefined` waits until notified
   * @param options `signal` stops the wait, rejecting with its reason once the lock is
   * taken back; a notify that already reached this waiter wins over the signal
   * @returns false if the timeout passed, else true
   * @throws {InvalidStateError} when this thread does not hold the lock
   * @throws {RangeError} when the timeout is negative or NaN
   */
  async wait(timeout?: number, options: SyncWaitOptions = {}): Promise<boolean> {
    const { signal } = options;
    const deadline = deadlineForTimeout(timeout, "wait on condition");
    if (signal?.aborted) throw signal.reason;
    const entered = Atomics.load(this.#w, SEQ);
    const depth = this.#enterWait();
    let aborted = false;
    try {
      for (let spins = 0;;) {
        const seq = Atomics.load(this.#w, SEQ);
        if (seq !== entered && this.#takeToken()) return true;
        if (aborted || timeLeft(deadline) === 0) {
          if (this.#cancel(++spins)) {
            if (aborted) throw signal!.reason;
            return false;
          }
          continue;
        }
        // An abort leaves the loop the way a timeout does, so the sleeper count stays right.
        await waitSliceAsync(this.#w, SEQ, seq, deadline, signal).catch(() => (aborted = true));
      }
    } finally {
      await this.#lock[RESUME](depth);
    }
  }

  /**
   * Like {@linkcode Condition.wait}, blocking this thread.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode Condition.wait}
   */
  waitSync(timeout?: number): boolean {
    requireBlocking("Condition.waitSync()", "await condition.wait()");
    const deadline = deadlineForTimeout(timeout, "wait on condition");
    const entered = Atomics.load(this.#w, SEQ);
    const depth = this.#enterWait();
    try {
      for (let spins = 0;;) {
        const seq = Atomics.load(this.#w, SEQ);
        if (seq !== entered && this.#takeToken()) return true;
        if (timeLeft(deadline) === 0) {
          if (this.#cancel(++spins)) return false;
          continue;
        }
        waitSlice(this.#w, SEQ, seq, deadline);
      }
    } finally {
      this.#lock[RESUME_SYNC](depth);
    }
  }

  /**
   * Wait until `predicate()` is truthy, re-checking after each notify; as Python's `wait_for`.
   *
   * @param predicate checked with the lock held
   * @param timeout milliseconds for the whole wait; `undefined` waits as long as it takes
   * @param options `signal` stops the wait, rejecting with its reason
   * @returns the last value of `predicate()`
   * @throws {InvalidStateError} when it has to wait and this thread does not hold the lock
   * (a predicate already true returns at once, as in Python)
   */
  async waitFor<T>(predicate: () => T, timeout?: number, options: SyncWaitOptions = {}): Promise<T> {
    const deadline = deadlineForTimeout(timeout, "wait on condition");
    let result = predicate();
    while (!result) {
      const left = timeLeft(deadline);
      if (left === 0) break;
      await this.wait(left === Infinity ? undefined : left, options);
      result = predicate();
    }
    return result;
  }

  /**
   * Like {@linkcode Condition.waitFor}, blocking this thread.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode Condition.waitFor}
   */
  waitForSync<T>(predicate: () => T, timeout?: number): T {
    requireBlocking("Condition.waitForSync()", "await condition.waitFor()");
    const deadline = deadlineForTimeout(timeout, "wait on condition");
    let result = predicate();
    while (!result) {
      const left = timeLeft(deadline);
      if (left === 0) break;
      this.waitSync(left === Infinity ? undefined : left);
      result = predicate();
    }
    return result;
  }

  /**
   * Wake up to `n` waiting threads or tasks.
   *
   * @param n how many to wake
   * @throws {InvalidStateError} when this thread does not hold the lock
   * @throws {RangeError} when `n` is negative or NaN
   */
  notify(n = 1): void {
    if (typeof n !== "number" || Number.isNaN(n) || n < 0) {
      throw new RangeError(`Cannot notify condition: n must be a non-negative number, got ${String(n)}`);
    }
    this.#requireOwned("notify");
    let k: number;
    for (;;) {
      const s = Atomics.load(this.#w, SLEEPERS);
      k = s < n ? s : Math.floor(n);
      if (k === 0) return;
      if (Atomics.compareExchange(this.#w, SLEEPERS, s, s - k) === s) break;
    }
    Atomics.add(this.#w, TOKENS, k);
    Atomics.add(this.#w, SEQ, 1);
    wake(this.#w, SEQ, k);
  }

  /**
   * Wake every waiting thread or task.
   *
   * @throws {InvalidStateError} when this thread does not hold the lock
   */
  notifyAll(): void {
    this.notify(Infinity);
  }

  /** Describe this condition for another thread. */
  [toShared](): SharedState {
    const state: ConditionState = { buffer: this.#w.buffer as SharedArrayBuffer, lock: this.#lock[toShared]() };
    return { kind: KIND, module: import.meta.url, state };
  }

  #requireOwned(what: string): void {
    if (!this.#lock[IS_OWNED]()) {
      throw new InvalidStateError(`Cannot ${what} condition: its lock is not held by this thread`);
    }
  }

  #enterWait(): number {
    this.#requireOwned("wait on");
    Atomics.add(this.#w, SLEEPERS, 1);
    return this.#lock[SUSPEND]();
  }

  #takeToken(): boolean {
    for (;;) {
      const t = Atomics.load(this.#w, TOKENS);
      if (t === 0) return false;
      if (Atomics.compareExchange(this.#w, TOKENS, t, t - 1) === t) return true;
    }
  }

  // On timeout, withdraw from SLEEPERS. If notify already turned every sleeper into a
  // token, one is ours and arrives in a moment; should it never come (the notifier ended
  // between its two steps), give up after a bounded spin.
  #cancel(spins: number): boolean {
    const s = Atomics.load(this.#w, SLEEPERS);
    if (s > 0) return Atomics.compareExchange(this.#w, SLEEPERS, s, s - 1) === s;
    return spins > SPIN * 1000;
  }
}

function describe(value: unknown): string {
  if (typeof value !== "object" || value === null) return String(value);
  return `an instance of ${value.constructor?.name ?? "an unknown class"}`;
}

registerShareable(KIND, (state: ConditionState) => {
  const lock = decodeSync({ value: null, refs: [{ path: [], shared: state.lock }] }) as Lock | RLock;
  adopted = { buffer: state.buffer, lock };
  return new Condition();
});

import { timeLeft } from "../_internal/deadline.ts";
import { requireBlocking, SPIN, waitSlice, waitSliceAsync, wake } from "../_internal/futex.ts";
import { identity } from "../_internal/identity.ts";
import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { isAlive } from "../_internal/shared_area.ts";
import { InvalidStateError } from "../errors.ts";
import { deadlineFor, disposer, timedOut } from "./_owner.ts";
import type { AcquireOptions } from "./lock.ts";

// Layout of the Int32 words:
//   VALUE    free slots (the futex word waiters sleep on)
//   WAITERS  threads sleeping or about to, so release knows whether to wake
//   BOUND    the most VALUE may reach: the initial value for a BoundedSemaphore
//   DIED     ident of the thread that recovered a dead holder's slots, until it releases
//   then HOLDERS pairs [ident, slots held]: who holds slots, so slots of a holder that
//   ends can be given back. The table is small and fixed; holders beyond it are not
//   tracked, and their slots are lost if they end holding them.
const VALUE = 0;
const WAITERS = 1;
const BOUND = 2;
const DIED = 3;
const TABLE = 4;
/** How many distinct holders a semaphore tracks for robustness. */
const HOLDERS = 16;
const WORDS = TABLE + 2 * HOLDERS;
const UNBOUNDED = 0x7fffffff;
const CLAIMED = -1;
const TRUE: Promise<boolean> = Promise.resolve(true);

interface SemaphoreState {
  buffer: SharedArrayBuffer;
}

// Set only while a shared state is being revived, or while a BoundedSemaphore is built.
let adopted: SemaphoreState | undefined;
let bounded = false;

function checkValue(value: number, what: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > UNBOUNDED) {
    throw new RangeError(`Cannot create ${what}: the value must be a non-negative integer, got ${String(value)}`);
  }
}

/**
 * A counting semaphore shared between threads, like Python's `multiprocessing.Semaphore`.
 * Robust: when a thread that holds slots ends, a waiter gives its slots back (for up
 * to 16 distinct holders at once) and sees {@linkcode Semaphore.ownerDied} until it releases.
 *
 * @example Usage
 * ```ts
 * import { Semaphore } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const sem = new Semaphore(2);
 * await sem.acquire();
 * assert.equal(sem.getValue(), 1);
 * sem.release();
 * assert.equal(sem.getValue(), 2);
 * ```
 */
export class Semaphore {
  readonly #w: Int32Array;
  // The table row this thread used last. Each thread has its own Semaphore object over
  // the shared words, so this is a per-thread hint that saves a scan.
  #row = -1;

  /**
   * Make a semaphore with `value` free slots.
   *
   * @param value initial free slots
   * @throws {RangeError} when `value` is negative or not an integer
   */
  constructor(value = 1) {
    const state = adopted;
    const isBounded = bounded;
    adopted = undefined;
    bounded = false;
    if (state !== undefined) {
      this.#w = new Int32Array(state.buffer);
      return;
    }
    checkValue(value, isBounded ? "bounded semaphore" : "semaphore");
    this.#w = new Int32Array(new SharedArrayBuffer(WORDS * 4));
    this.#w[VALUE] = value;
    this.#w[BOUND] = isBounded ? value : UNBOUNDED;
  }

  /**
   * Take a slot, waiting while none is free.
   *
   * @param options `blocking`, `timeout` (ms) and `signal`
   * @returns true once taken; false when `blocking` is false or the timeout passed
   * @throws {RangeError} when the timeout is negative or NaN
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    let deadline: number;
    try {
      deadline = deadlineFor(options, "acquire semaphore");
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const me = identity().ident;
    if (this.#tryDown()) {
      this.#record(me);
      return TRUE;
    }
    return this.#acquireAsync(me, deadline, signal);
  }

  /**
   * Take a slot, blocking this thread while none is free.
   *
   * @param options `blocking`, `timeout` (ms); an already aborted `signal` throws its reason
   * @returns true once taken; false when `blocking` is false or the timeout passed
   * @throws {TypeError} when this thread may not block; use {@linkcode Semaphore.acquire}
   * @throws {RangeError} when the timeout is negative or NaN
   */
  acquireSync(options?: AcquireOptions): boolean {
    requireBlocking("Semaphore.acquireSync()", "await semaphore.acquire()");
    const deadline = deadlineFor(options, "acquire semaphore");
    if (options?.signal?.aborted) throw options.signal.reason;
    const me = identity().ident;
    if (!this.#tryDown() && !this.#spin()) {
      Atomics.add(this.#w, WAITERS, 1);
      try {
        for (;;) {
          if (this.#tryDown()) break;
          if (this.#recover(me)) continue;
          if (!waitSlice(this.#w, VALUE, 0, deadline)) return false;
        }
      } finally {
        Atomics.sub(this.#w, WAITERS, 1);
      }
    }
    this.#record(me);
    return true;
  }

  /**
   * Give back `n` slots; any thread may, as in Python.
   *
   * @param n how many slots
   * @throws {RangeError} when `n` is not a positive integer
   * @throws {InvalidStateError} when a bounded semaphore would exceed its initial value
   */
  release(n = 1): void {
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot release semaphore: n must be a positive integer, got ${String(n)}`);
    }
    const bound = Atomics.load(this.#w, BOUND);
    for (;;) {
      const v = Atomics.load(this.#w, VALUE);
      if (v + n > bound) {
        throw new InvalidStateError("Cannot release semaphore: it was released more times than acquired");
      }
      if (Atomics.compareExchange(this.#w, VALUE, v, v + n) === v) break;
    }
    this.#forget(identity().ident, n);
    if (Atomics.load(this.#w, WAITERS) > 0) wake(this.#w, VALUE, n);
  }

  /** The number of free slots (Python's `get_value()`). */
  getValue(): number {
    return Atomics.load(this.#w, VALUE);
  }

  /** True while the thread that recovered the slots of a holder that ended has not released yet. */
  get ownerDied(): boolean {
    return Atomics.load(this.#w, DIED) !== 0;
  }

  /**
   * Take a slot and return a disposable that gives it back: `using _ = await sem.hold()`.
   *
   * @throws {TimeoutError} when the timeout passes first
   */
  async hold(options?: Omit<AcquireOptions, "blocking">): Promise<Disposable> {
    if (!await this.acquire(options)) throw timedOut("semaphore", options?.timeout);
    return disposer(() => this.release());
  }

  /**
   * Take a slot, blocking, and return a disposable that gives it back.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode Semaphore.hold}
   * @throws {TimeoutError} when the timeout passes first
   */
  holdSync(options?: Omit<AcquireOptions, "blocking">): Disposable {
    requireBlocking("Semaphore.holdSync()", "await semaphore.hold()");
    if (!this.acquireSync(options)) throw timedOut("semaphore", options?.timeout);
    return disposer(() => this.release());
  }

  /** A short description, like Python's repr. */
  toString(): string {
    const bound = Atomics.load(this.#w, BOUND);
    return `<${this.constructor.name}(value=${this.getValue()}${bound === UNBOUNDED ? "" : `, maxvalue=${bound}`})>`;
  }

  /** Describe this semaphore for another thread. */
  [toShared](): SharedState {
    const kind = Atomics.load(this.#w, BOUND) === UNBOUNDED ? KIND : BOUNDED_KIND;
    return { kind, module: import.meta.url, state: { buffer: this.#w.buffer as SharedArrayBuffer } };
  }

  async #acquireAsync(me: number, deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.#spin()) {
      this.#record(me);
      return true;
    }
    Atomics.add(this.#w, WAITERS, 1);
    try {
      for (;;) {
        if (this.#tryDown()) break;
        if (this.#recover(me)) continue;
        if (timeLeft(deadline) === 0) return false;
        await waitSliceAsync(this.#w, VALUE, 0, deadline, signal);
      }
    } finally {
      Atomics.sub(this.#w, WAITERS, 1);
    }
    this.#record(me);
    return true;
  }

  #tryDown(): boolean {
    for (;;) {
      const v = Atomics.load(this.#w, VALUE);
      if (v <= 0) return false;
      if (Atomics.compareExchange(this.#w, VALUE, v, v - 1) === v) return true;
    }
  }

  #spin(): boolean {
    for (let n = 0; n < SPIN; n++) {
      if (Atomics.load(this.#w, VALUE) > 0 && this.#tryDown()) return true;
    }
    return false;
  }

  // Only the holder writes its own row, except to claim a free row or to empty the row
  // of a holder that has ended, both by CAS on the ident word.
  #record(me: number): void {
    const w = this.#w;
    const hint = this.#row;
    if (hint !== -1) {
      const id = Atomics.load(w, hint);
      if (id === me || (id === 0 && Atomics.compareExchange(w, hint, 0, me) === 0)) {
        Atomics.add(w, hint + 1, 1);
        return;
      }
    }
    let free = -1;
    for (let i = TABLE; i < WORDS; i += 2) {
      const id = Atomics.load(w, i);
      if (id === me) {
        Atomics.add(w, i + 1, 1);
        this.#row = i;
        return;
      }
      if (id === 0 && free === -1) free = i;
    }
    for (let i = free; i !== -1 && i < WORDS; i += 2) {
      if (Atomics.compareExchange(w, i, 0, me) === 0) {
        Atomics.add(w, i + 1, 1);
        this.#row = i;
        return;
      }
    }
  }

  #forget(me: number, n: number): void {
    const w = this.#w;
    if (Atomics.load(w, DIED) === me) Atomics.store(w, DIED, 0);
    const hint = this.#row;
    if (hint !== -1 && Atomics.load(w, hint) === me) return this.#drop(hint, me, n);
    for (let i = TABLE; i < WORDS; i += 2) {
      if (Atomics.load(w, i) === me) return this.#drop(i, me, n);
    }
  }

  #drop(row: number, me: number, n: number): void {
    const w = this.#w;
    const held = Atomics.load(w, row + 1);
    const left = held > n ? held - n : 0;
    Atomics.store(w, row + 1, left);
    if (left === 0) Atomics.compareExchange(w, row, me, 0);
  }

  // Give back the slots of holders that have ended; true when some were.
  #recover(me: number): boolean {
    const w = this.#w;
    let recovered = 0;
    for (let i = TABLE; i < WORDS; i += 2) {
      const id = Atomics.load(w, i);
      if (id <= 0 || isAlive(id)) continue;
      if (Atomics.compareExchange(w, i, id, CLAIMED) !== id) continue;
      recovered += Atomics.exchange(w, i + 1, 0);
      Atomics.store(w, i, 0);
    }
    if (recovered === 0) return false;
    Atomics.store(w, DIED, me);
    const bound = Atomics.load(w, BOUND);
    for (;;) {
      const v = Atomics.load(w, VALUE);
      const next = Math.min(v + recovered, bound);
      if (Atomics.compareExchange(w, VALUE, v, next) === v) break;
    }
    wake(w, VALUE, recovered);
    return true;
  }
}

/**
 * A semaphore that refuses to be released above its initial value, like Python's
 * `multiprocessing.BoundedSemaphore`.
 *
 * @example Usage
 * ```ts
 * import { BoundedSemaphore, InvalidStateError } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const sem = new BoundedSemaphore(1);
 * assert.throws(() => sem.release(), InvalidStateError);
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  /**
   * Make a bounded semaphore with `value` free slots, which is also its maximum.
   *
   * @param value initial and maximum free slots
   * @throws {RangeError} when `value` is negative or not an integer
   */
  constructor(value = 1) {
    bounded = true;
    super(value);
  }
}

const KIND = "sync.Semaphore";
const BOUNDED_KIND = "sync.BoundedSemaphore";

registerShareable(KIND, (state: SemaphoreState) => {
  adopted = state;
  return new Semaphore();
});
registerShareable(BOUNDED_KIND, (state: SemaphoreState) => {
  adopted = state;
  return new BoundedSemaphore();
});

import { requireBlocking } from "../_internal/futex.ts";
import { identity } from "../_internal/identity.ts";
import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { InvalidStateError } from "../errors.ts";
import {
  deadlineFor,
  DIED,
  disposer,
  give,
  IDENT_MASK,
  IS_OWNED,
  RESUME,
  RESUME_SYNC,
  SUSPEND,
  takeAsync,
  takeSync,
  timedOut,
  tryTake,
} from "./_owner.ts";
import type { AcquireOptions } from "./lock.ts";

const KIND = "sync.RLock";
const TRUE: Promise<boolean> = Promise.resolve(true);
// Word 0 is the owner word, word 1 the recursion depth. Only the holder touches the
// depth, after taking the owner word, whose atomic update orders it; so plain reads and
// writes suffice.
const DEPTH = 1;

interface RLockState {
  buffer: SharedArrayBuffer;
}

// Set only while a shared state is being revived, so the public constructor stays
// argument-free.
let adopted: RLockState | undefined;

/**
 * A re-entrant lock, like Python's `multiprocessing.RLock`: the thread that holds it may
 * take it again, and must release it as many times. Only the holder may release it.
 * Ownership is per thread, so async tasks of one thread share a hold, as asyncio tasks
 * do in Python. Robust like {@linkcode Lock}.
 *
 * @example Usage
 * ```ts
 * import { RLock } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const lock = new RLock();
 * await lock.acquire();
 * await lock.acquire();
 * lock.release();
 * assert.equal(lock.locked(), true);
 * lock.release();
 * assert.equal(lock.locked(), false);
 * ```
 */
export class RLock {
  readonly #w: Int32Array;

  /** Make an unlocked re-entrant lock. */
  constructor() {
    const state = adopted;
    adopted = undefined;
    this.#w = new Int32Array(state?.buffer ?? new SharedArrayBuffer(8));
  }

  /**
   * Take the lock, or one more level of it when this thread already holds it.
   *
   * @param options `blocking`, `timeout` (ms) and `signal`
   * @returns true once taken; false when `blocking` is false or the timeout passed
   * @throws {RangeError} when the timeout is negative or NaN
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    let deadline: number;
    try {
      deadline = deadlineFor(options, "acquire recursive lock");
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const me = identity().ident;
    if (this.#enter(me)) return TRUE;
    return takeAsync(this.#w, 0, me, deadline, signal).then((taken) => {
      if (taken) Atomics.store(this.#w, DEPTH, 1);
      return taken;
    });
  }

  /**
   * Take the lock (or one more level), blocking this thread while another holds it.
   *
   * @param options `blocking`, `timeout` (ms); an already aborted `signal` throws its reason
   * @returns true once taken; false when `blocking` is false or the timeout passed
   * @throws {TypeError} when this thread may not block; use {@linkcode RLock.acquire}
   * @throws {RangeError} when the timeout is negative or NaN
   */
  acquireSync(options?: AcquireOptions): boolean {
    requireBlocking("RLock.acquireSync()", "await lock.acquire()");
    const deadline = deadlineFor(options, "acquire recursive lock");
    if (options?.signal?.aborted) throw options.signal.reason;
    const me = identity().ident;
    if (this.#enter(me)) return true;
    if (!takeSync(this.#w, 0, me, deadline)) return false;
    Atomics.store(this.#w, DEPTH, 1);
    return true;
  }

  /**
   * Release one level; the lock is free once every level is released. Clears
   * {@linkcode RLock.ownerDied} then.
   *
   * @throws {InvalidStateError} when this thread does not hold the lock
   */
  release(): void {
    if ((Atomics.load(this.#w, 0) & IDENT_MASK) !== identity().ident) {
      throw new InvalidStateError("Cannot release recursive lock: it is not held by this thread");
    }
    const depth = --this.#w[DEPTH];
    if (depth === 0) give(this.#w, 0);
  }

  /** Whether some thread holds the lock. */
  locked(): boolean {
    return Atomics.load(this.#w, 0) !== 0;
  }

  /** True while the lock is held by a thread that took it over from a holder that ended. */
  get ownerDied(): boolean {
    return (Atomics.load(this.#w, 0) & DIED) !== 0;
  }

  /**
   * Take the lock and return a disposable that releases one level: `using _ = await lock.hold()`.
   *
   * @param options `timeout` (ms) and `signal`
   * @throws {TimeoutError} when the timeout passes first
   */
  async hold(options?: Omit<AcquireOptions, "blocking">): Promise<Disposable> {
    if (!await this.acquire(options)) throw timedOut("recursive lock", options?.timeout);
    return disposer(() => this.release());
  }

  /**
   * Take the lock, blocking, and return a disposable that releases one level.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode RLock.hold}
   * @throws {TimeoutError} when the timeout passes first
   */
  holdSync(options?: Omit<AcquireOptions, "blocking">): Disposable {
    requireBlocking("RLock.holdSync()", "await lock.hold()");
    if (!this.acquireSync(options)) throw timedOut("recursive lock", options?.timeout);
    return disposer(() => this.release());
  }

  /** A short description, like Python's repr. */
  toString(): string {
    const w = Atomics.load(this.#w, 0);
    return w === 0 ? "<RLock(None, 0)>" : `<RLock(${w & IDENT_MASK}, ${Atomics.load(this.#w, DEPTH)})>`;
  }

  #enter(me: number): boolean {
    if ((Atomics.load(this.#w, 0) & IDENT_MASK) === me) {
      this.#w[DEPTH]++;
      return true;
    }
    if (!tryTake(this.#w, 0, me)) return false;
    this.#w[DEPTH] = 1;
    return true;
  }

  /** @internal */
  [IS_OWNED](): boolean {
    return (Atomics.load(this.#w, 0) & IDENT_MASK) === identity().ident;
  }

  /** @internal */
  [SUSPEND](): number {
    const depth = Atomics.load(this.#w, DEPTH);
    Atomics.store(this.#w, DEPTH, 0);
    give(this.#w, 0);
    return depth;
  }

  /** @internal */
  [RESUME_SYNC](depth: number): void {
    const me = identity().ident;
    if (!tryTake(this.#w, 0, me)) takeSync(this.#w, 0, me, Infinity);
    Atomics.store(this.#w, DEPTH, depth);
  }

  /** @internal */
  async [RESUME](depth: number): Promise<void> {
    const me = identity().ident;
    if (!tryTake(this.#w, 0, me)) await takeAsync(this.#w, 0, me, Infinity, undefined);
    Atomics.store(this.#w, DEPTH, depth);
  }

  /** Describe this lock for another thread. */
  [toShared](): SharedState {
    return { kind: KIND, module: import.meta.url, state: { buffer: this.#w.buffer as SharedArrayBuffer } };
  }
}

registerShareable(KIND, (state: RLockState) => {
  adopted = state;
  return new RLock();
});

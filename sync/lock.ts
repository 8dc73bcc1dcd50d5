import { requireBlocking, wake } from "../_internal/futex.ts";
import { identity, ownIdent } from "../_internal/identity.ts";
import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { runtime } from "../_runtime/mod.ts";
import { InvalidStateError } from "../errors.ts";
import {
  deadlineFor,
  DIED,
  disposer,
  IDENT_MASK,
  IS_OWNED,
  RESUME,
  RESUME_SYNC,
  SUSPEND,
  takeAsync,
  takeSync,
  timedOut,
  tryTake,
  WAITERS,
} from "./_owner.ts";

/** Options for acquiring a lock or a semaphore slot. */
export interface AcquireOptions {
  /** When false, take the lock only if it is free now, as Python's `acquire(False)`. @default {true} */
  blocking?: boolean;
  /** Longest wait in milliseconds; `undefined` waits as long as it takes. @default {undefined} */
  timeout?: number;
  /** Abort the wait; the promise rejects with `signal.reason`. Checked once by the `Sync` forms. @default {undefined} */
  signal?: AbortSignal;
}

const KIND = "sync.Lock";
const TRUE: Promise<boolean> = Promise.resolve(true);

interface LockState {
  buffer: SharedArrayBuffer;
}

// Set only while a shared state is being revived, so the public constructor stays
// argument-free.
let adopted: LockState | undefined;

/**
 * A mutual-exclusion lock shared by every thread it is passed to, like Python's
 * `multiprocessing.Lock`. Any thread may release it. Robust: if the holder ends while
 * holding it, the next acquirer gets it and sees {@linkcode Lock.ownerDied} until it
 * releases.
 *
 * @example Usage
 * ```ts
 * import { Lock } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const lock = new Lock();
 * {
 *   using _ = await lock.hold();
 *   assert.equal(lock.locked(), true);
 * }
 * assert.equal(await lock.acquire({ timeout: 10 }), true);
 * assert.equal(await lock.acquire({ blocking: false }), false);
 * lock.release();
 * ```
 */
export class Lock {
  readonly #w: Int32Array;

  /** Make an unlocked lock. */
  constructor() {
    const state = adopted;
    adopted = undefined;
    this.#w = new Int32Array(state?.buffer ?? new SharedArrayBuffer(4));
  }

  /**
   * Take the lock, waiting if another holder has it.
   *
   * @param options `blocking`, `timeout` (ms) and `signal`
   * @returns true once taken; false when `blocking` is false or the timeout passed
   * @throws {RangeError} when the timeout is negative or NaN
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    let deadline: number;
    try {
      deadline = deadlineFor(options, "acquire lock");
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const me = identity().ident;
    if (tryTake(this.#w, 0, me)) return TRUE;
    return takeAsync(this.#w, 0, me, deadline, signal);
  }

  /**
   * Take the lock, blocking this thread while another holder has it.
   *
   * @param options `blocking`, `timeout` (ms); an already aborted `signal` throws its reason
   * @returns true once taken; false when `blocking` is false or the timeout passed
   * @throws {TypeError} when this thread may not block; use {@linkcode Lock.acquire}
   * @throws {RangeError} when the timeout is negative or NaN
   */
  acquireSync(options?: AcquireOptions): boolean {
    // The uncontended take comes first and alone, one compare-exchange, so it costs about
    // what the bare primitive does (a separate slow-path method cost Bun 10%).
    if (options === undefined && runtime.canBlock && Atomics.compareExchange(this.#w, 0, 0, ownIdent) === 0) {
      return true;
    }
    requireBlocking("Lock.acquireSync()", "await lock.acquire()");
    const me = identity().ident;
    if (options === undefined) return tryTake(this.#w, 0, me) || takeSync(this.#w, 0, me, Infinity);
    const deadline = deadlineFor(options, "acquire lock");
    if (options.signal?.aborted) throw options.signal.reason;
    return tryTake(this.#w, 0, me) || takeSync(this.#w, 0, me, deadline);
  }

  /**
   * Release the lock; any thread may, as in Python. Clears {@linkcode Lock.ownerDied}.
   *
   * @throws {InvalidStateError} when the lock is not locked
   */
  release(): void {
    // give() inlined: this is half of every uncontended acquire-release pair.
    const old = Atomics.exchange(this.#w, 0, 0);
    if (old <= 0 || (old & WAITERS) !== 0) this.#released(old);
  }

  #released(old: number): void {
    if (old === 0) throw new InvalidStateError("Cannot release lock: it is not locked");
    wake(this.#w, 0, 1);
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
   * Take the lock and return a disposable that releases it: `using _ = await lock.hold()`.
   *
   * @param options `timeout` (ms) and `signal`
   * @throws {TimeoutError} when the timeout passes first
   */
  async hold(options?: Omit<AcquireOptions, "blocking">): Promise<Disposable> {
    if (!await this.acquire(options)) throw timedOut("lock", options?.timeout);
    return disposer(() => this.release());
  }

  /**
   * Take the lock, blocking, and return a disposable that releases it.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode Lock.hold}
   * @throws {TimeoutError} when the timeout passes first
   */
  holdSync(options?: Omit<AcquireOptions, "blocking">): Disposable {
    requireBlocking("Lock.holdSync()", "await lock.hold()");
    if (!this.acquireSync(options)) throw timedOut("lock", options?.timeout);
    return disposer(() => this.release());
  }

  /** A short description, like Python's repr. */
  toString(): string {
    const w = Atomics.load(this.#w, 0);
    return `<Lock(owner=${w === 0 ? "None" : w & IDENT_MASK})>`;
  }

  /** @internal */
  [IS_OWNED](): boolean {
    return (Atomics.load(this.#w, 0) & IDENT_MASK) === identity().ident;
  }

  /** @internal */
  [SUSPEND](): number {
    this.release();
    return 1;
  }

  /** @internal */
  [RESUME_SYNC](): void {
    const me = identity().ident;
    if (!tryTake(this.#w, 0, me)) takeSync(this.#w, 0, me, Infinity);
  }

  /** @internal */
  async [RESUME](): Promise<void> {
    const me = identity().ident;
    if (!tryTake(this.#w, 0, me)) await takeAsync(this.#w, 0, me, Infinity, undefined);
  }

  /** Describe this lock for another thread. */
  [toShared](): SharedState {
    return {
      kind: KIND,
      module: import.meta.url,
      state: { buffer: this.#w.buffer as SharedArrayBuffer } satisfies LockState,
    };
  }
}

registerShareable(KIND, (state: LockState) => {
  adopted = state;
  return new Lock();
});

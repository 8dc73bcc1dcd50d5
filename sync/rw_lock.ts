import { timeLeft } from "../_internal/deadline.ts";
import { requireBlocking, SPIN, waitSlice, waitSliceAsync, wake } from "../_internal/futex.ts";
import { identity, ownIdent } from "../_internal/identity.ts";
import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { isAlive } from "../_internal/shared_area.ts";
import { runtime } from "../_runtime/mod.ts";
import { InvalidStateError } from "../errors.ts";
import { deadlineFor, disposer, timedOut } from "./_owner.ts";
import type { AcquireOptions } from "./lock.ts";

const KIND = "sync.RWLock";
// STATE is 0 when free, N > 0 with N readers, -ident while a writer holds it; it is the
// futex word everyone sleeps on. WRITERS counts waiting writers: readers do not enter
// while it is non-zero, so a stream of readers cannot starve a writer. SLEEPERS tells a
// releaser whether to wake anyone. DIED holds the ident of a thread that took over from
// a writer that ended, until that thread releases.
const STATE = 0;
const WRITERS = 1;
const SLEEPERS = 2;
const DIED = 3;
const TRUE: Promise<boolean> = Promise.resolve(true);

interface RWLockState {
  buffer: SharedArrayBuffer;
}

// Set only while a shared state is being revived.
let adopted: RWLockState | undefined;

type Side = "read" | "write";

/**
 * A readers-writer lock: many readers at once or one writer. Writers are preferred: once
 * a writer waits, new readers wait behind it, so a stream of readers cannot starve it
 * (and a thread must not take the read side twice while a writer may be waiting).
 * Robust on the write side like {@linkcode Lock}; readers that end holding the read side
 * are not tracked.
 *
 * @example Usage
 * ```ts
 * import { RWLock } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const rw = new RWLock();
 * {
 *   using _a = await rw.read();
 *   using _b = await rw.read();
 *   assert.equal(await rw.acquireWrite({ blocking: false }), false);
 * }
 * using _ = rw.writeSync();
 * ```
 */
export class RWLock {
  readonly #w: Int32Array;

  /** Make a free readers-writer lock. */
  constructor() {
    const state = adopted;
    adopted = undefined;
    this.#w = new Int32Array(state?.buffer ?? new SharedArrayBuffer(16));
  }

  /**
   * Take the read side, waiting while a writer holds or waits for the lock.
   *
   * @param options `blocking`, `timeout` (ms) and `signal`
   * @returns true once taken; false when `blocking` is false or the timeout passed
   * @throws {RangeError} when the timeout is negative or NaN
   */
  acquireRead(options?: AcquireOptions): Promise<boolean> {
    return this.#acquire("read", options);
  }

  /**
   * Take the read side, blocking this thread.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode RWLock.acquireRead}
   */
  acquireReadSync(options?: AcquireOptions): boolean {
    // The uncontended take first and alone (see Lock.acquireSync).
    if (options === undefined && runtime.canBlock) {
      const w = this.#w;
      const s = Atomics.load(w, STATE);
      if (s >= 0 && Atomics.load(w, WRITERS) === 0 && Atomics.compareExchange(w, STATE, s, s + 1) === s) return true;
    }
    requireBlocking("RWLock.acquireReadSync()", "await rwLock.acquireRead()");
    return this.#acquireSync("read", options);
  }

  /**
   * Release the read side.
   *
   * @throws {InvalidStateError} when no reader holds the lock
   */
  releaseRead(): void {
    const w = this.#w;
    for (;;) {
      const s = Atomics.load(w, STATE);
      if (s <= 0) throw new InvalidStateError("Cannot release read lock: no reader holds it");
      if (Atomics.compareExchange(w, STATE, s, s - 1) !== s) continue;
      if (Atomics.load(w, DIED) !== 0) this.#clearDied();
      if (s === 1 && Atomics.load(w, SLEEPERS) > 0) wake(w, STATE);
      return;
    }
  }

  /**
   * Take the write side, waiting until no reader or writer holds the lock.
   *
   * @param options `blocking`, `timeout` (ms) and `signal`
   * @returns true once taken; false when `blocking` is false or the timeout passed
   * @throws {RangeError} when the timeout is negative or NaN
   */
  acquireWrite(options?: AcquireOptions): Promise<boolean> {
    return this.#acquire("write", options);
  }

  /**
   * Take the write side, blocking this thread.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode RWLock.acquireWrite}
   */
  acquireWriteSync(options?: AcquireOptions): boolean {
    if (
      options === undefined && runtime.canBlock && Atomics.compareExchange(this.#w, STATE, 0, -ownIdent) === 0
    ) {
      return true;
    }
    requireBlocking("RWLock.acquireWriteSync()", "await rwLock.acquireWrite()");
    return this.#acquireSync("write", options);
  }

  /**
   * Release the write side; clears {@linkcode RWLock.ownerDied}.
   *
   * @throws {InvalidStateError} when this thread does not hold the write side
   */
  releaseWrite(): void {
    const w = this.#w;
    const me = -identity().ident;
    if (Atomics.compareExchange(w, STATE, me, 0) !== me) {
      throw new InvalidStateError("Cannot release write lock: it is not held by this thread");
    }
    if (Atomics.load(w, DIED) !== 0) this.#clearDied();
    if (Atomics.load(w, SLEEPERS) > 0) wake(w, STATE);
  }

  /** Take the read side and return a disposable that releases it: `using _ = await rw.read()`. */
  async read(options?: Omit<AcquireOptions, "blocking">): Promise<Disposable> {
    if (!await this.acquireRead(options)) throw timedOut("read lock", options?.timeout);
    return disposer(() => this.releaseRead());
  }

  /**
   * Take the read side, blocking, and return a disposable that releases it.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode RWLock.read}
   */
  readSync(options?: Omit<AcquireOptions, "blocking">): Disposable {
    requireBlocking("RWLock.readSync()", "await rwLock.read()");
    if (!this.acquireReadSync(options)) throw timedOut("read lock", options?.timeout);
    return disposer(() => this.releaseRead());
  }

  /** Take the write side and return a disposable that releases it: `using _ = await rw.write()`. */
  async write(options?: Omit<AcquireOptions, "blocking">): Promise<Disposable> {
    if (!await this.acquireWrite(options)) throw timedOut("write lock", options?.timeout);
    return disposer(() => this.releaseWrite());
  }

  /**
   * Take the write side, blocking, and return a disposable that releases it.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode RWLock.write}
   */
  writeSync(options?: Omit<AcquireOptions, "blocking">): Disposable {
    requireBlocking("RWLock.writeSync()", "await rwLock.write()");
    if (!this.acquireWriteSync(options)) throw timedOut("write lock", options?.timeout);
    return disposer(() => this.releaseWrite());
  }

  /** How many readers hold the lock now. */
  get readers(): number {
    const s = Atomics.load(this.#w, STATE);
    return s > 0 ? s : 0;
  }

  /** Whether a writer holds the lock now. */
  get writeLocked(): boolean {
    return Atomics.load(this.#w, STATE) < 0;
  }

  /** True while the lock is held by a thread that took it over from a writer that ended. */
  get ownerDied(): boolean {
    return Atomics.load(this.#w, DIED) !== 0;
  }

  /** Describe this lock for another thread. */
  [toShared](): SharedState {
    return { kind: KIND, module: import.meta.url, state: { buffer: this.#w.buffer as SharedArrayBuffer } };
  }

  #acquire(side: Side, options: AcquireOptions | undefined): Promise<boolean> {
    let deadline: number;
    try {
      deadline = deadlineFor(options, `acquire ${side} lock`);
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const me = identity().ident;
    if (this.#try(side, me) || this.#spin(side, me)) return TRUE;
    return this.#slowAsync(side, me, deadline, signal);
  }

  #acquireSync(side: Side, options: AcquireOptions | undefined): boolean {
    const deadline = deadlineFor(options, `acquire ${side} lock`);
    if (options?.signal?.aborted) throw options.signal.reason;
    const me = identity().ident;
    if (this.#try(side, me) || this.#spin(side, me)) return true;
    const w = this.#w;
    this.#enterWait(side);
    let taken = false;
    try {
      for (;;) {
        const s = this.#step(side, me);
        if (s === true) return taken = true;
        if (s === false) continue;
        if (!waitSlice(w, STATE, s, deadline)) return false;
      }
    } finally {
      this.#leaveWait(side, taken);
    }
  }

  async #slowAsync(side: Side, me: number, deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    this.#enterWait(side);
    let taken = false;
    try {
      for (;;) {
        const s = this.#step(side, me);
        if (s === true) return taken = true;
        if (s === false) continue;
        if (timeLeft(deadline) === 0) return false;
        await waitSliceAsync(this.#w, STATE, s, deadline, signal);
      }
    } finally {
      this.#leaveWait(side, taken);
    }
  }

  #try(side: Side, me: number): boolean {
    const w = this.#w;
    if (side === "write") return Atomics.compareExchange(w, STATE, 0, -me) === 0;
    const s = Atomics.load(w, STATE);
    return s >= 0 && Atomics.load(w, WRITERS) === 0 && Atomics.compareExchange(w, STATE, s, s + 1) === s;
  }

  #spin(side: Side, me: number): boolean {
    for (let n = 0; n < SPIN; n++) if (this.#try(side, me)) return true;
    return false;
  }

  // One attempt while registered as a waiter: true when taken, false to retry at once,
  // else the STATE value to sleep on.
  #step(side: Side, me: number): boolean | number {
    const w = this.#w;
    const s = Atomics.load(w, STATE);
    if (s < 0 && !isAlive(-s)) {
      if (Atomics.compareExchange(w, STATE, s, side === "write" ? -me : 1) !== s) return false;
      Atomics.store(w, DIED, me);
      wake(w, STATE);
      return true;
    }
    if (side === "write") {
      if (s === 0) return Atomics.compareExchange(w, STATE, 0, -me) === 0;
    } else if (s >= 0 && Atomics.load(w, WRITERS) === 0) {
      return Atomics.compareExchange(w, STATE, s, s + 1) === s;
    }
    return s;
  }

  #enterWait(side: Side): void {
    if (side === "write") Atomics.add(this.#w, WRITERS, 1);
    Atomics.add(this.#w, SLEEPERS, 1);
  }

  #leaveWait(side: Side, taken: boolean): void {
    const w = this.#w;
    Atomics.sub(w, SLEEPERS, 1);
    if (side === "write" && Atomics.sub(w, WRITERS, 1) === 1 && !taken) {
      // Readers held back for this writer may go now.
      wake(w, STATE);
    }
  }

  #clearDied(): void {
    if (Atomics.load(this.#w, DIED) === identity().ident) Atomics.store(this.#w, DIED, 0);
  }
}

registerShareable(KIND, (state: RWLockState) => {
  adopted = state;
  return new RWLock();
});

import { timeLeft } from "../_internal/deadline.ts";
import { requireBlocking, SPIN, waitSlice, waitSliceAsync, wake } from "../_internal/futex.ts";
import { identity, ownIdent } from "../_internal/identity.ts";
import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { isAlive } from "../_internal/shared_area.ts";
import { runtime } from "../_runtime/mod.ts";
import { InvalidStateError } from "../errors.ts";
import { deadlineFor, DIED as OWNER_DIED, disposer, IDENT_MASK, NO_WAIT, timedOut } from "./_owner.ts";
import type { AcquireOptions } from "./lock.ts";

const KIND = "sync.RWLock";

// Three Int32 words. STATE is what readers and writers touch: a reader enters with one
// fetch-add of ONE and leaves with one fetch-sub, and backs out at once when the add shows
// a writer bit; a writer enters with one compare-exchange and leaves with one fetch-sub. A
// compare-exchange loop on one word (the old design) fails and retries whenever two threads
// touch it, and a fetch-add never does.
//
//   STATE  bit 0 WANT: a writer waits for the readers inside to leave; new readers keep out
//          bit 1 HELD: a writer holds the lock
//          bit 2 TAKEN: a reader took the lock over from a writer that ended (see DIED)
//          bit 3 SLEEPY: someone may sleep on STATE; whoever clears it wakes them all, and
//                the value a release gets back tells it so without another read
//          bits 4-30: readers inside, counting for an instant those about to back out
//   OWNER  the ident of the writer that set WANT or HELD (with _owner.ts's DIED bit when it
//          took them over from a writer that ended), 0 for the instant between that and
//          the compare-exchange. Only that writer writes it, with plain stores: an atomic
//          operation on a word the readers hammer costs a cache-line transfer, and every
//          extra one on the write path cost 15% of a two-thread read mix. Waiters read it
//          to find a writer that ended; there is no interrupt check between the two steps
//          for a terminated thread to stop at.
//   DIED   the ident of a reader that took the lock over from a writer that ended, until it
//          releases
//
// Writers are preferred: once a writer has set WANT, new readers keep out while those
// inside drain, so a stream of readers cannot starve it.
const STATE = 0;
const OWNER = 1;
const DIED = 2;
const WANT = 1;
const HELD = 2;
const TAKEN = 4;
const SLEEPY = 8;
const ONE = 16;
const FLAGS = 15;
const KEEP_OUT = WANT | HELD;
const TRUE: Promise<boolean> = Promise.resolve(true);
const FALSE: Promise<boolean> = Promise.resolve(false);

interface RWLockState {
  buffer: SharedArrayBuffer;
}

// Set only while a shared state is being revived.
let adopted: RWLockState | undefined;

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
    this.#w = new Int32Array(state?.buffer ?? new SharedArrayBuffer(12));
  }

  /**
   * Take the read side, waiting while a writer holds or waits for the lock.
   *
   * @param options `blocking`, `timeout` (ms) and `signal`
   * @returns true once taken; false when `blocking` is false or the timeout passed
   * @throws {RangeError} when the timeout is negative or NaN
   */
  acquireRead(options?: AcquireOptions): Promise<boolean> {
    let deadline: number;
    try {
      deadline = deadlineFor(options, "acquire read lock");
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#tryRead() || this.#spinRead(deadline)) return TRUE;
    if (deadline === NO_WAIT) return FALSE;
    return this.#readAsync(deadline, signal);
  }

  /**
   * Take the read side, blocking this thread.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode RWLock.acquireRead}
   */
  acquireReadSync(options?: AcquireOptions): boolean {
    // The uncontended take first and alone, one fetch-add (see Lock.acquireSync).
    if (options === undefined && runtime.canBlock && (Atomics.add(this.#w, STATE, ONE) & KEEP_OUT) === 0) return true;
    return this.#acquireReadSync(options);
  }

  /**
   * Release the read side.
   *
   * @throws {InvalidStateError} when no reader holds the lock
   */
  releaseRead(): void {
    const old = Atomics.sub(this.#w, STATE, ONE);
    if ((old & FLAGS) !== 0 || old < ONE) this.#readReleased(old);
  }

  /**
   * Take the write side, waiting until no reader or writer holds the lock.
   *
   * @param options `blocking`, `timeout` (ms) and `signal`
   * @returns true once taken; false when `blocking` is false or the timeout passed
   * @throws {RangeError} when the timeout is negative or NaN
   */
  acquireWrite(options?: AcquireOptions): Promise<boolean> {
    let deadline: number;
    try {
      deadline = deadlineFor(options, "acquire write lock");
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.#writeAsync(identity().ident, deadline, signal);
  }

  /**
   * Take the write side, blocking this thread.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode RWLock.acquireWrite}
   */
  acquireWriteSync(options?: AcquireOptions): boolean {
    const w = this.#w;
    if (options === undefined && runtime.canBlock && Atomics.compareExchange(w, STATE, 0, HELD) === 0) {
      w[OWNER] = ownIdent;
      return true;
    }
    return this.#acquireWriteSync(options);
  }

  /**
   * Release the write side; clears {@linkcode RWLock.ownerDied}.
   *
   * @throws {InvalidStateError} when this thread does not hold the write side
   */
  releaseWrite(): void {
    const w = this.#w;
    // Plain reads and stores of OWNER: see the layout notes.
    const owner = w[OWNER];
    if ((owner & IDENT_MASK) !== ownIdent) this.#notWriter();
    w[OWNER] = 0;
    const old = Atomics.sub(w, STATE, HELD);
    if ((old & (HELD | SLEEPY)) !== HELD) this.#writeReleased(old, owner);
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
    // Under a writer the count is only readers backing out.
    return (s & HELD) !== 0 || s < ONE ? 0 : s >>> 4;
  }

  /** Whether a writer holds the lock now. */
  get writeLocked(): boolean {
    return (Atomics.load(this.#w, STATE) & HELD) !== 0;
  }

  /** True while the lock is held by a thread that took it over from a writer that ended. */
  get ownerDied(): boolean {
    const w = this.#w;
    return (Atomics.load(w, OWNER) & OWNER_DIED) !== 0 || Atomics.load(w, DIED) !== 0;
  }

  /** Describe this lock for another thread. */
  [toShared](): SharedState {
    return { kind: KIND, module: import.meta.url, state: { buffer: this.#w.buffer as SharedArrayBuffer } };
  }

  // ---- read side ----

  // Everything but the uncontended take, kept apart so that the fast path stays small
  // enough for the JIT to inline into the caller's loop.
  #acquireReadSync(options: AcquireOptions | undefined): boolean {
    // The fast path added this reader; it found a writer.
    if (options === undefined && runtime.canBlock) this.#backOut();
    requireBlocking("RWLock.acquireReadSync()", "await rwLock.acquireRead()");
    const deadline = deadlineFor(options, "acquire read lock");
    if (options?.signal?.aborted) throw options.signal.reason;
    if (this.#tryRead() || this.#spinRead(deadline)) return true;
    return deadline !== NO_WAIT && this.#readSync(deadline);
  }

  // Undo an add that found a writer. The writer may be waiting for exactly this count to
  // reach zero.
  #backOut(): void {
    const old = Atomics.sub(this.#w, STATE, ONE);
    if ((old & (WANT | SLEEPY)) === (WANT | SLEEPY) && (old & ~FLAGS) === ONE) this.#wake();
  }

  #tryRead(): boolean {
    const w = this.#w;
    // Look before adding, so readers held off by a writer do not keep touching the count.
    if ((Atomics.load(w, STATE) & KEEP_OUT) !== 0) return false;
    if ((Atomics.add(w, STATE, ONE) & KEEP_OUT) === 0) return true;
    this.#backOut();
    return false;
  }

  #spinRead(deadline: number): boolean {
    if (deadline === NO_WAIT) return false;
    for (let n = 0; n < SPIN; n++) if (this.#tryRead()) return true;
    return false;
  }

  #readReleased(old: number): void {
    const w = this.#w;
    if (old < ONE) {
      Atomics.add(w, STATE, ONE);
      throw new InvalidStateError("Cannot release read lock: no reader holds it");
    }
    if ((old & (WANT | SLEEPY)) === (WANT | SLEEPY) && (old & ~FLAGS) === ONE) this.#wake();
    if ((old & TAKEN) !== 0 && Atomics.compareExchange(w, DIED, ownIdent, 0) === ownIdent) {
      Atomics.and(w, STATE, ~TAKEN);
      // Another reader may have taken over again between the two steps.
      if (Atomics.load(w, DIED) !== 0) Atomics.or(w, STATE, TAKEN);
    }
  }

  #readSync(deadline: number): boolean {
    for (;;) {
      const s = this.#readStep();
      if (s === true) return true;
      if (s === false) continue;
      if (!waitSlice(this.#w, STATE, s, deadline)) return false;
    }
  }

  async #readAsync(deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    for (;;) {
      const s = this.#readStep();
      if (s === true) return true;
      if (s === false) continue;
      if (timeLeft(deadline) === 0) return false;
      await waitSliceAsync(this.#w, STATE, s, deadline, signal);
    }
  }

  // One attempt of a waiting reader: true when taken, false to retry at once, else the
  // STATE value to sleep on.
  #readStep(): boolean | number {
    const w = this.#w;
    const s = Atomics.load(w, STATE);
    if ((s & KEEP_OUT) === 0) return this.#tryRead();
    const c = Atomics.load(w, OWNER);
    const owner = c & IDENT_MASK;
    if (owner !== 0 && !isAlive(owner)) return this.#takeOverRead(c);
    return this.#sleepy(s, KEEP_OUT);
  }

  // The value to sleep on while any of `busy` is set in STATE, with SLEEPY raised so the
  // one who clears `busy` wakes us; false when `busy` cleared meanwhile.
  #sleepy(s: number, busy: number): number | false {
    if ((s & SLEEPY) !== 0) return s;
    const now = Atomics.or(this.#w, STATE, SLEEPY) | SLEEPY;
    return (now & busy) !== 0 && now;
  }

  // The writer (or would-be writer) ended holding OWNER: take OWNER from it, enter as a
  // reader, lift its bits and let everyone in.
  #takeOverRead(c: number): boolean {
    const w = this.#w;
    const me = identity().ident;
    if (Atomics.compareExchange(w, OWNER, c, me) !== c) return false;
    Atomics.add(w, STATE, ONE);
    Atomics.store(w, DIED, me);
    Atomics.or(w, STATE, TAKEN);
    // OWNER first: once the bits are gone a new writer may store its own ident there.
    Atomics.store(w, OWNER, 0);
    Atomics.and(w, STATE, ~(KEEP_OUT | SLEEPY));
    wake(w, STATE);
    return true;
  }

  // ---- write side ----

  #acquireWriteSync(options: AcquireOptions | undefined): boolean {
    requireBlocking("RWLock.acquireWriteSync()", "await rwLock.acquireWrite()");
    const deadline = deadlineFor(options, "acquire write lock");
    if (options?.signal?.aborted) throw options.signal.reason;
    const me = identity().ident;
    this.#spinWriter(deadline);
    for (;;) {
      const s = this.#writeStep(me, deadline);
      if (s === true) break;
      if (s === false) return false;
      if (s === 0) continue;
      if (!waitSlice(this.#w, STATE, s, deadline)) return false;
    }
    if (this.#drained(deadline)) return true;
    let taken = false;
    try {
      for (;;) {
        const s = this.#drainStep();
        if (s === true) return taken = true;
        if (s === false) continue;
        if (!waitSlice(this.#w, STATE, s, deadline)) return false;
      }
    } finally {
      if (!taken) this.#giveUp();
    }
  }

  async #writeAsync(me: number, deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    const w = this.#w;
    this.#spinWriter(deadline);
    for (;;) {
      const s = this.#writeStep(me, deadline);
      if (s === true) break;
      if (s === false) return false;
      if (s === 0) continue;
      await waitSliceAsync(w, STATE, s, deadline, signal);
    }
    if (this.#drained(deadline)) return true;
    let taken = false;
    try {
      for (;;) {
        const s = this.#drainStep();
        if (s === true) return taken = true;
        if (s === false) continue;
        if (timeLeft(deadline) === 0) return false;
        await waitSliceAsync(w, STATE, s, deadline, signal);
      }
    } finally {
      if (!taken) this.#giveUp();
    }
  }

  // Wait a moment, without sleeping, for another writer to leave.
  #spinWriter(deadline: number): void {
    if (deadline === NO_WAIT) return;
    const w = this.#w;
    for (let n = 0; n < SPIN && (Atomics.load(w, STATE) & KEEP_OUT) !== 0; n++);
  }

  // One attempt to become the writer: true once this thread set HELD or WANT (or took
  // them over from a writer that ended), 0 to retry at once, false when out of time, else
  // the STATE value to sleep on while another writer is in.
  #writeStep(me: number, deadline: number): boolean | number {
    const w = this.#w;
    const s = Atomics.load(w, STATE);
    if ((s & KEEP_OUT) === 0) {
      const readers = (s & ~FLAGS) !== 0;
      // Without time to wait for the readers, do not keep new ones out for nothing.
      if (readers && deadline === NO_WAIT) return false;
      if (Atomics.compareExchange(w, STATE, s, s | (readers ? WANT : HELD)) !== s) return 0;
      Atomics.store(w, OWNER, me);
      return true;
    }
    const c = Atomics.load(w, OWNER);
    const owner = c & IDENT_MASK;
    if (owner !== 0 && !isAlive(owner)) return Atomics.compareExchange(w, OWNER, c, me | OWNER_DIED) === c || 0;
    if (timeLeft(deadline) === 0) return false;
    return this.#sleepy(s, KEEP_OUT) || 0;
  }

  // As the writer: true when HELD (from the start, or after the readers left while this
  // spun), else false with WANT still up.
  #drained(deadline: number): boolean {
    const w = this.#w;
    if ((Atomics.load(w, STATE) & HELD) !== 0) return true;
    if (deadline === NO_WAIT) return this.#giveUp();
    for (let n = 0; n < SPIN; n++) if ((Atomics.load(w, STATE) & ~FLAGS) === 0) return this.#hold();
    return false;
  }

  // One look of a writer waiting for readers to leave: true once held, false to look again
  // at once, else the STATE value to sleep on.
  #drainStep(): boolean | number {
    const s = Atomics.load(this.#w, STATE);
    if ((s & ~FLAGS) === 0) return this.#hold();
    return this.#sleepy(s, ~FLAGS);
  }

  // WANT becomes HELD in one step; readers backing out meanwhile stay counted.
  #hold(): true {
    Atomics.add(this.#w, STATE, HELD - WANT);
    return true;
  }

  // A writer that waited for readers in vain: let readers and writers back in.
  #giveUp(): false {
    const w = this.#w;
    Atomics.store(w, OWNER, 0);
    if ((Atomics.sub(w, STATE, WANT) & SLEEPY) !== 0) this.#wake();
    return false;
  }

  #notWriter(): never {
    throw new InvalidStateError("Cannot release write lock: it is not held by this thread");
  }

  // releaseWrite found HELD missing (this thread is the writer only waiting for readers to
  // leave, in another of its async calls) or sleepers to wake.
  #writeReleased(old: number, owner: number): void {
    if ((old & HELD) === 0) {
      Atomics.add(this.#w, STATE, HELD);
      Atomics.store(this.#w, OWNER, owner);
      this.#notWriter();
    }
    this.#wake();
  }

  // Clear SLEEPY and wake every sleeper; those still kept out raise it again.
  #wake(): void {
    Atomics.and(this.#w, STATE, ~SLEEPY);
    wake(this.#w, STATE);
  }
}

registerShareable(KIND, (state: RWLockState) => {
  adopted = state;
  return new RWLock();
});

import { checkTimeout, timeLeft } from "../_internal/deadline.ts";
import { requireBlocking, waitSlice, waitSliceAsync, wake } from "../_internal/futex.ts";
import { identity } from "../_internal/identity.ts";
import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { runtime } from "../_runtime/mod.ts";
import { BrokenBarrierError } from "../errors.ts";
import { isTaskRef, type TaskRef } from "../task.ts";
import { deadlineForTimeout, give, takeAsync, takeSpinning, takeSync, tryTake } from "./_owner.ts";
import type { SyncWaitOptions } from "./event.ts";

const KIND = "sync.Barrier";
// MUTEX is an owner word guarding COUNT, GEN, BROKEN and RESET_GEN. COUNT is how many
// parties arrived this round (it stays at `parties` while the action runs). GEN numbers
// rounds; a waiter is through once GEN moves past its round, unless RESET_GEN says
// reset() ended that round. EPOCH changes on every event and is the word waiters sleep on.
const MUTEX = 0;
const COUNT = 1;
const GEN = 2;
const BROKEN = 3;
const EPOCH = 4;
const RESET_GEN = 5;

/** Options for {@linkcode Barrier}. */
export interface BarrierOptions {
  /** Task run by the last party to arrive, before the others are let through. @default {undefined} */
  action?: TaskRef<() => unknown>;
  /** Default timeout of {@linkcode Barrier.wait}, in ms; `undefined` waits as long as it takes. @default {undefined} */
  timeout?: number;
}

interface BarrierState {
  buffer: SharedArrayBuffer;
  parties: number;
  action: { module: string; name: string } | undefined;
  timeout: number | undefined;
}

// Set only while a shared state is being revived.
let adopted: BarrierState | undefined;

function broken(): BrokenBarrierError {
  return new BrokenBarrierError("Cannot pass barrier: it is broken");
}

/**
 * A barrier for a fixed number of parties, like Python's `multiprocessing.Barrier`: each
 * `wait()` blocks until `parties` threads or tasks have called it, then all go on, and
 * the barrier is ready for the next round. A timeout, an error in the action or
 * `abort()` breaks it, and every waiter gets {@linkcode BrokenBarrierError}.
 *
 * @example Usage
 * ```ts
 * import { Barrier } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const barrier = new Barrier(2);
 * const indexes = await Promise.all([barrier.wait(), barrier.wait()]);
 * assert.deepEqual(indexes.sort(), [0, 1]);
 * ```
 */
export class Barrier {
  readonly #w: Int32Array;
  readonly #parties: number;
  readonly #action: TaskRef<() => unknown> | undefined;
  readonly #timeout: number | undefined;
  #actionFn: (() => unknown) | undefined;
  #actionLoad: Promise<() => unknown> | undefined;

  /**
   * Make a barrier for `parties` parties.
   *
   * @param parties how many must arrive to let all through
   * @param options `action` and default `timeout`
   * @throws {RangeError} when `parties` is not a positive integer, or the timeout is negative or NaN
   * @throws {TypeError} when `action` is not a task reference
   */
  constructor(parties: number, options: BarrierOptions = {}) {
    const state = adopted;
    adopted = undefined;
    if (state !== undefined) {
      this.#w = new Int32Array(state.buffer);
      this.#parties = state.parties;
      this.#action = state.action;
      this.#timeout = state.timeout;
    } else {
      const { action, timeout } = options;
      if (typeof parties !== "number" || !Number.isInteger(parties) || parties < 1 || parties > 0x7fffffff) {
        throw new RangeError(`Cannot create a barrier: parties must be a positive integer, got ${String(parties)}`);
      }
      checkTimeout(timeout, "create a barrier");
      if (action !== undefined && !isTaskRef(action)) {
        throw new TypeError(`Cannot create a barrier: the action must be a task reference, got ${typeof action}`);
      }
      this.#w = new Int32Array(new SharedArrayBuffer(24));
      this.#w[RESET_GEN] = -1;
      this.#parties = parties;
      this.#action = action && { module: action.module, name: action.name };
      this.#timeout = timeout;
    }
    // Load the action early in every thread that has the barrier, so that waitSync can
    // run it; a failure to load surfaces when the action is due.
    if (this.#action !== undefined) this.#loadAction().catch(() => {});
  }

  /** How many parties must arrive to let all through. */
  get parties(): number {
    return this.#parties;
  }

  /** How many parties wait in the current round. */
  get nWaiting(): number {
    if (Atomics.load(this.#w, BROKEN) !== 0) return 0;
    const count = Atomics.load(this.#w, COUNT);
    return count < this.#parties ? count : this.#parties - 1;
  }

  /** Whether the barrier is broken. */
  get broken(): boolean {
    return Atomics.load(this.#w, BROKEN) !== 0;
  }

  /**
   * Arrive and wait for the other parties.
   *
   * @param timeout milliseconds; defaults to the barrier's own timeout
   * @param options `signal` stops the wait; like a timeout it breaks the barrier for every
   * party, and this call rejects with the signal's reason
   * @returns this party's arrival index, 0 to `parties - 1`
   * @throws {BrokenBarrierError} when the barrier is or gets broken, including by this call's timeout
   * @throws {RangeError} when the timeout is negative or NaN
   */
  async wait(timeout?: number, options: SyncWaitOptions = {}): Promise<number> {
    const { signal } = options;
    const deadline = deadlineForTimeout(timeout ?? this.#timeout, "wait on barrier");
    if (signal?.aborted) throw signal.reason;
    let aborted = false;
    // An abort leaves the waits below the way a timeout does, then reports the signal.
    const sleep = (epoch: number) =>
      waitSliceAsync(this.#w, EPOCH, epoch, deadline, signal).catch(() => (aborted = true));
    const leave = (gen: number, index?: number): number => {
      try {
        return this.#breakOrPass(gen, index);
      } catch (error) {
        throw aborted ? signal!.reason : error;
      }
    };
    const me = identity().ident;
    for (;;) {
      if (!tryTake(this.#w, MUTEX, me)) await takeAsync(this.#w, MUTEX, me, Infinity, undefined);
      const arrival = this.#arrive(true);
      if (arrival.full) {
        if (aborted || timeLeft(deadline) === 0) leave(arrival.gen);
        else await sleep(arrival.epoch);
        continue;
      }
      if (arrival.index === this.#parties - 1) {
        let error: unknown = null;
        try {
          if (this.#action !== undefined) await (this.#actionFn ?? await this.#loadAction())();
        } catch (e) {
          error = e;
        }
        return this.#finish(arrival.gen, arrival.index, error);
      }
      for (;;) {
        const epoch = Atomics.load(this.#w, EPOCH);
        const through = this.#through(arrival.gen);
        if (through) return arrival.index;
        if (aborted || timeLeft(deadline) === 0) return leave(arrival.gen, arrival.index);
        await sleep(epoch);
      }
    }
  }

  /**
   * Like {@linkcode Barrier.wait}, blocking this thread. With an action, this thread may
   * arrive last only once the action's module has loaded here (see
   * {@linkcode Barrier.ready}), and the action must be synchronous.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode Barrier.wait}
   * @throws {TypeError} when this party would arrive last but cannot run the action yet
   */
  waitSync(timeout?: number): number {
    requireBlocking("Barrier.waitSync()", "await barrier.wait()");
    const deadline = deadlineForTimeout(timeout ?? this.#timeout, "wait on barrier");
    const me = identity().ident;
    for (;;) {
      if (!tryTake(this.#w, MUTEX, me)) takeSync(this.#w, MUTEX, me, Infinity);
      const arrival = this.#arrive(this.#action === undefined || this.#actionFn !== undefined);
      if (arrival.full) {
        if (!waitSlice(this.#w, EPOCH, arrival.epoch, deadline)) this.#breakOrPass(arrival.gen);
        continue;
      }
      if (arrival.index === this.#parties - 1) {
        let error: unknown = null;
        try {
          if (this.#action !== undefined) this.#runActionSync();
        } catch (e) {
          error = e;
        }
        return this.#finish(arrival.gen, arrival.index, error);
      }
      for (;;) {
        const epoch = Atomics.load(this.#w, EPOCH);
        if (this.#through(arrival.gen)) return arrival.index;
        if (!waitSlice(this.#w, EPOCH, epoch, deadline)) return this.#breakOrPass(arrival.gen, arrival.index);
      }
    }
  }

  /**
   * Resolve once this thread can run the barrier's action, having loaded its module, so
   * that {@linkcode Barrier.waitSync} may arrive last. Resolves at once without an action.
   *
   * @throws {TypeError} when the action's module has no such function
   */
  async ready(): Promise<void> {
    if (this.#action !== undefined && this.#actionFn === undefined) await this.#loadAction();
  }

  /** Break the barrier: current and future waiters get {@linkcode BrokenBarrierError} until `reset()`. */
  abort(): void {
    this.#locked(() => {
      Atomics.store(this.#w, BROKEN, 1);
    });
  }

  /** Return to the initial, unbroken state; parties waiting now get {@linkcode BrokenBarrierError}. */
  reset(): void {
    this.#locked(() => {
      const w = this.#w;
      if (Atomics.load(w, COUNT) > 0) {
        Atomics.store(w, RESET_GEN, Atomics.load(w, GEN));
        Atomics.add(w, GEN, 1);
      }
      Atomics.store(w, COUNT, 0);
      Atomics.store(w, BROKEN, 0);
    });
  }

  /** Describe this barrier for another thread. */
  [toShared](): SharedState {
    const state: BarrierState = {
      buffer: this.#w.buffer as SharedArrayBuffer,
      parties: this.#parties,
      action: this.#action && { module: this.#action.module, name: this.#action.name },
      timeout: this.#timeout,
    };
    return { kind: KIND, module: import.meta.url, state };
  }

  // With the mutex held: count this party in and release the mutex. A party that could
  // not run the action refuses to be the last, before counting itself in.
  #arrive(canRunAction: boolean): { full: boolean; index: number; gen: number; epoch: number } {
    const w = this.#w;
    try {
      if (Atomics.load(w, BROKEN) !== 0) throw broken();
      const count = Atomics.load(w, COUNT);
      if (count === this.#parties - 1 && !canRunAction) {
        throw new TypeError(
          "Cannot arrive last at the barrier in Barrier.waitSync(): its action is not loaded in this thread yet, await barrier.ready() first or use await barrier.wait()",
        );
      }
      const gen = Atomics.load(w, GEN);
      const epoch = Atomics.load(w, EPOCH);
      // The last round's action is still running: wait for it to end, then arrive.
      if (count >= this.#parties) return { full: true, index: -1, gen, epoch };
      Atomics.store(w, COUNT, count + 1);
      return { full: false, index: count, gen, epoch };
    } finally {
      give(w, MUTEX);
    }
  }

  // The last party ends the round: let everyone through, or break the barrier.
  #finish(gen: number, index: number, error: unknown): number {
    let reset = false;
    this.#locked(() => {
      const w = this.#w;
      if (Atomics.load(w, GEN) !== gen) {
        reset = true;
      } else if (error !== null) {
        Atomics.store(w, BROKEN, 1);
      } else {
        Atomics.store(w, COUNT, 0);
        Atomics.add(w, GEN, 1);
      }
    });
    if (error !== null) throw error;
    if (reset) throw broken();
    return index;
  }

  // Whether the round `gen` is over for its waiters; throws when it ended broken.
  #through(gen: number): boolean {
    const w = this.#w;
    if (Atomics.load(w, GEN) !== gen) {
      if (Atomics.load(w, RESET_GEN) === gen) throw broken();
      return true;
    }
    if (Atomics.load(w, BROKEN) !== 0) throw broken();
    return false;
  }

  // A waiter's timeout breaks the barrier, as in Python, unless its round just ended:
  // then it returns `index` (or -1 for a party still waiting to arrive, which retries).
  #breakOrPass(gen: number, index = -1): number {
    let broke = false;
    this.#locked(() => {
      if (Atomics.load(this.#w, GEN) === gen) {
        Atomics.store(this.#w, BROKEN, 1);
        broke = true;
      }
    });
    if (broke || (index !== -1 && Atomics.load(this.#w, RESET_GEN) === gen)) throw broken();
    return index;
  }

  // Run `fn` under the mutex, then tell every sleeper something changed. The mutex is
  // held only for a few loads and stores, so taking it blocks at most briefly even on a
  // thread that may not block otherwise.
  #locked(fn: () => void): void {
    const w = this.#w;
    const me = identity().ident;
    if (!tryTake(w, MUTEX, me)) {
      if (runtime.canBlock) takeSync(w, MUTEX, me, Infinity);
      else takeSpinning(w, MUTEX, me);
    }
    try {
      fn();
    } finally {
      Atomics.add(w, EPOCH, 1);
      give(w, MUTEX);
      wake(w, EPOCH);
    }
  }

  #loadAction(): Promise<() => unknown> {
    const action = this.#action!;
    return this.#actionLoad ??= runtime.importModule(action.module).then((mod) => {
      const fn = mod[action.name];
      if (typeof fn !== "function") {
        throw new TypeError(`Cannot run barrier action: "${action.name}" is not a function of "${action.module}"`);
      }
      return this.#actionFn = fn as () => unknown;
    });
  }

  #runActionSync(): void {
    const result = this.#actionFn!() as { then?: unknown } | undefined;
    if (typeof result?.then === "function") {
      throw new TypeError("Cannot run an async barrier action in Barrier.waitSync(): use await barrier.wait()");
    }
  }
}

registerShareable(KIND, (state: BarrierState) => {
  adopted = state;
  return new Barrier(state.parties);
});

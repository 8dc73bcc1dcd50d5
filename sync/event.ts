import { timeLeft } from "../_internal/deadline.ts";
import { requireBlocking, waitSlice, waitSliceAsync, wake } from "../_internal/futex.ts";
import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { deadlineForTimeout } from "./_owner.ts";

/** Options of the async waits of Event, Condition and Barrier. */
export interface SyncWaitOptions {
  /** Stops the wait, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

const KIND = "sync.Event";
const TRUE: Promise<boolean> = Promise.resolve(true);

interface EventState {
  buffer: SharedArrayBuffer;
}

// Set only while a shared state is being revived.
let adopted: EventState | undefined;

/**
 * A flag threads can wait for, like Python's `multiprocessing.Event`. Python builds it
 * from a Condition; here the flag word itself is the futex, which needs no lock.
 *
 * @example Usage
 * ```ts
 * import { Event } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const event = new Event();
 * setTimeout(() => event.set(), 1);
 * assert.equal(await event.wait(5000), true);
 * assert.equal(event.isSet(), true);
 * event.clear();
 * assert.equal(await event.wait(0), false);
 * ```
 */
export class Event {
  readonly #w: Int32Array;

  /** Make an event that is not set. */
  constructor() {
    const state = adopted;
    adopted = undefined;
    this.#w = new Int32Array(state?.buffer ?? new SharedArrayBuffer(4));
  }

  /** Whether the flag is set. */
  isSet(): boolean {
    return Atomics.load(this.#w, 0) !== 0;
  }

  /** Set the flag and wake every waiter. */
  set(): void {
    Atomics.store(this.#w, 0, 1);
    wake(this.#w, 0);
  }

  /** Reset the flag. */
  clear(): void {
    Atomics.store(this.#w, 0, 0);
  }

  /**
   * Wait until the flag is set or `timeout` ms pass.
   *
   * @param timeout milliseconds; `undefined` waits as long as it takes
   * @param options `signal` stops the wait, rejecting with its reason
   * @returns the flag at the end: false only when the timeout passed
   * @throws {RangeError} when the timeout is negative or NaN
   */
  wait(timeout?: number, options: SyncWaitOptions = {}): Promise<boolean> {
    const { signal } = options;
    let deadline: number;
    try {
      deadline = deadlineForTimeout(timeout, "wait for event");
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.isSet()) return TRUE;
    return this.#waitAsync(deadline, signal);
  }

  /**
   * Like {@linkcode Event.wait}, blocking this thread.
   *
   * @throws {TypeError} when this thread may not block; use {@linkcode Event.wait}
   */
  waitSync(timeout?: number): boolean {
    requireBlocking("Event.waitSync()", "await event.wait()");
    const deadline = deadlineForTimeout(timeout, "wait for event");
    while (!this.isSet()) {
      if (!waitSlice(this.#w, 0, 0, deadline)) return false;
    }
    return true;
  }

  /** Describe this event for another thread. */
  [toShared](): SharedState {
    return { kind: KIND, module: import.meta.url, state: { buffer: this.#w.buffer as SharedArrayBuffer } };
  }

  async #waitAsync(deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    while (!this.isSet()) {
      if (timeLeft(deadline) === 0) return false;
      await waitSliceAsync(this.#w, 0, 0, deadline, signal);
    }
    return true;
  }
}

registerShareable(KIND, (state: EventState) => {
  adopted = state;
  return new Event();
});

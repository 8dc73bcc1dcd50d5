import { checkTimeout, deadlineOf, throwIfAborted } from "../_internal/deadline.ts";
import { requireBlocking } from "../_internal/futex.ts";
import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { InvalidStateError, TimeoutError } from "../errors.ts";
import { rings } from "./_ops.ts";
import { adopt } from "./_queue_core.ts";
import { DONE, Ring, type RingState } from "./_ring.ts";
import { Queue, type QueueOptions } from "./queue.ts";

const KIND = "ipc.JoinableQueue";

/** Options of {@linkcode JoinableQueue.join}. */
export interface QueueJoinOptions {
  /** Longest wait in milliseconds; `undefined` waits as long as it takes. @default {undefined} */
  timeout?: number;
  /** Abort the wait; the promise rejects with `signal.reason`. @default {undefined} */
  signal?: AbortSignal;
}

/**
 * A {@linkcode Queue} that counts unfinished tasks, like Python's
 * `multiprocessing.JoinableQueue`: every put adds one, every {@linkcode JoinableQueue.taskDone}
 * takes one away, and {@linkcode JoinableQueue.join} waits until none is left.
 *
 * @typeParam T the items' type
 * @example Usage
 * ```ts
 * import { JoinableQueue } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const q = new JoinableQueue<string>();
 * await q.put("job");
 * assert.equal(await q.get(), "job");
 * q.taskDone();
 * await q.join(); // returns at once: every task is done
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /**
   * Make an empty queue.
   *
   * @param options `maxsize` (items) and `bytes` (ring size), as for {@linkcode Queue}
   * @throws {RangeError} when `maxsize` or `bytes` is out of range
   */
  constructor(options: QueueOptions = {}) {
    adoptJoinable();
    super(options);
  }

  /**
   * Mark one task taken from the queue as done.
   *
   * @throws {InvalidStateError} when called more times than items were put
   */
  taskDone(): void {
    if (!rings.get(this)!.taskDone()) {
      throw new InvalidStateError("Cannot mark task done: called more times than items were put");
    }
  }

  /**
   * Wait until every item put has been marked done with {@linkcode JoinableQueue.taskDone}.
   *
   * @param options `timeout` (ms) and `signal`
   * @throws {TimeoutError} when the timeout passes first
   * @throws {RangeError} when the timeout is negative or NaN
   */
  async join(options?: QueueJoinOptions): Promise<void> {
    const ring = rings.get(this)!;
    checkTimeout(options?.timeout, "join queue");
    throwIfAborted(options?.signal);
    const deadline = deadlineOf(options?.timeout);
    const op = Ring.waiter();
    while (ring.joinStep(op) !== DONE) {
      if (!await ring.sleepAsync(op, deadline, options?.signal)) throw this.#timedOut(options?.timeout);
    }
  }

  /**
   * Wait, blocking this thread, until every item put has been marked done.
   *
   * @param options `timeout` (ms); an already aborted `signal` throws its reason
   * @throws {TimeoutError} when the timeout passes first
   * @throws {TypeError} when this thread may not block; use {@linkcode JoinableQueue.join}
   */
  joinSync(options?: QueueJoinOptions): void {
    const ring = rings.get(this)!;
    checkTimeout(options?.timeout, "join queue");
    throwIfAborted(options?.signal);
    const deadline = deadlineOf(options?.timeout);
    const op = Ring.waiter();
    if (ring.joinStep(op) === DONE) return;
    requireBlocking("JoinableQueue.joinSync()", "await queue.join()");
    while (ring.joinStep(op) !== DONE) {
      if (!ring.sleepSync(op, deadline)) throw this.#timedOut(options?.timeout);
    }
  }

  #timedOut(timeout: number | undefined): TimeoutError {
    return new TimeoutError(
      `Cannot join queue: ${rings.get(this)!.unfinished()} tasks were still not done after ${timeout} ms`,
    );
  }

  /** Describe this queue for another thread. */
  override [toShared](): SharedState {
    return { kind: KIND, module: import.meta.url, state: rings.get(this)!.state() };
  }
}

let reviving: RingState | undefined;

function adoptJoinable(): void {
  adopt(reviving, true);
  reviving = undefined;
}

registerShareable(KIND, (state: RingState) => {
  reviving = state;
  return new JoinableQueue();
});

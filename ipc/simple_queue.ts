import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { type BlockingOptions, getAsync, getSync, iterate, putAsync, putSync, rings } from "./_ops.ts";
import { queueFailures, queueRing } from "./_queue_core.ts";
import { ENDED, Ring, type RingState } from "./_ring.ts";

const KIND = "ipc.SimpleQueue";

let adopted: RingState | undefined;

/**
 * An unbounded first-in first-out queue with fewer methods, like Python's
 * `multiprocessing.SimpleQueue`: the same ring as {@linkcode Queue}, without `maxsize`,
 * sizes or non-blocking forms.
 *
 * @typeParam T the items' type
 * @example Usage
 * ```ts
 * import { SimpleQueue } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const q = new SimpleQueue<number[]>();
 * await q.put([1, 2]);
 * assert.equal(q.empty(), false);
 * assert.deepEqual(await q.get(), [1, 2]);
 * ```
 */
export class SimpleQueue<T = unknown> implements AsyncIterable<T> {
  readonly #ring: Ring;
  readonly #fail: ReturnType<typeof queueFailures>;

  /** Make an empty queue. */
  constructor() {
    const state = adopted;
    adopted = undefined;
    this.#ring = state !== undefined ? new Ring(state) : queueRing({}, "simple queue", false);
    this.#fail = queueFailures(this.#ring, "simple queue");
    rings.set(this, this.#ring);
  }

  /**
   * Put `item` at the tail.
   *
   * @throws {InvalidStateError} when the queue is closed
   * @throws {TypeError} when the item cannot be copied; the queue is unchanged
   * @throws {FullError} when the queue reached its 1 GiB ceiling
   */
  put(item: T): Promise<void> {
    return putAsync(this.#ring, item, undefined, "put item on simple queue", this.#fail.put(item, undefined));
  }

  /**
   * Put `item`, blocking this thread for as long as another thread is putting.
   *
   * @throws {InvalidStateError} when the queue is closed
   * @throws {TypeError} when the item cannot be copied, or this thread may not block
   */
  putSync(item: T): void {
    putSync(
      this.#ring,
      item,
      undefined,
      "put item on simple queue",
      "SimpleQueue.putSync()",
      "await queue.put()",
      this.#fail.put(item, undefined),
    );
  }

  /**
   * Take the item at the head, waiting while the queue is empty.
   *
   * @param options `timeout` (ms) and `signal`
   * @throws {InvalidStateError} when the queue is closed and empty
   * @throws {EmptyError} when the timeout passed
   */
  get(options?: Omit<BlockingOptions, "block">): Promise<T> {
    return getAsync<T>(this.#ring, options, "get item from simple queue", this.#fail.get(options?.timeout));
  }

  /**
   * Take the item at the head, blocking this thread while the queue is empty.
   *
   * @param options `timeout` (ms); an already aborted `signal` throws its reason
   * @throws {InvalidStateError} when the queue is closed and empty
   * @throws {TypeError} when this thread may not block; use {@linkcode SimpleQueue.get}
   */
  getSync(options?: Omit<BlockingOptions, "block">): T {
    return getSync<T>(
      this.#ring,
      options,
      "get item from simple queue",
      "SimpleQueue.getSync()",
      "await queue.get()",
      this.#fail.get(options?.timeout),
    );
  }

  /** Whether the queue holds no item; approximate while other threads put and get. */
  empty(): boolean {
    return this.#ring.items() === 0;
  }

  /** Close the queue for every thread: puts fail, gets take what is left. Idempotent. */
  close(): void {
    this.#ring.close();
  }

  /** Take items until the queue is closed and empty. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return iterate<T>(this.#ring, ENDED, this.#fail.get(undefined));
  }

  /** Describe this queue for another thread. */
  [toShared](): SharedState {
    return { kind: KIND, module: import.meta.url, state: this.#ring.state() };
  }
}

registerShareable(KIND, (state: RingState) => {
  adopted = state;
  return new SimpleQueue();
});

import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { type BlockingOptions, getAsync, getSync, iterate, putAsync, putSync, rings } from "./_ops.ts";
import { adopt, EMPTY_BYTES, queueFailures, queueRing, takeAdopted } from "./_queue_core.ts";
import { ENDED, Ring, type RingState } from "./_ring.ts";

export type { BlockingOptions } from "./_ops.ts";

/** Options of a {@linkcode Queue}. */
export interface QueueOptions {
  /** Most items the queue holds; a put waits while it is full. 0: no bound. @default {0} */
  maxsize?: number;
  /**
   * Bytes of the ring the items travel through (rounded up to a power of two, at least
   * 256). When set, the ring keeps that size and an item larger than it travels in
   * pieces; when not set, the ring starts at 4 KiB and grows as items need, up to 1 GiB.
   * @default {undefined}
   */
  bytes?: number;
}

/**
 * Shared memory a new queue takes with default options, in bytes: its control words and
 * the ring it starts with (the ring grows only as items need it).
 */
export const EMPTY_QUEUE_BYTES: number = EMPTY_BYTES;

const KIND = "ipc.Queue";

/**
 * A first-in first-out queue shared by every thread it is passed to, like Python's
 * `multiprocessing.Queue`. Items travel through a ring of bytes in shared memory, not
 * through messages, so any number of producers and consumers on any threads may use it
 * at once; items from one producer arrive in the order it put them.
 *
 * Items are anything structured clone copies; numbers, strings, typed arrays and plain
 * JSON-like data take faster paths than the rest. Shared memory (a `SharedArrayBuffer`,
 * a lock) is not an item, as in Python: pass it in `args`. `close()` closes the queue for
 * every thread: puts then fail, and gets take what is left, then fail (`for await` ends).
 *
 * Limits: `maxsize` counts items; the ring's bytes are bounded by `bytes` when given
 * (a larger item travels in pieces), else the ring grows up to 1 GiB, past which a put
 * fails with `FullError` rather than drop anything. An empty queue takes
 * 4480 bytes of shared memory ({@linkcode EMPTY_QUEUE_BYTES}).
 *
 * @typeParam T the items' type
 * @example Usage
 * ```ts
 * import { Queue } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const q = new Queue<number | string>({ maxsize: 10 });
 * await q.put(1);
 * q.putSync("two");
 * assert.equal(q.qsize(), 2);
 * assert.equal(await q.get(), 1);
 * assert.equal(q.getSync(), "two");
 * assert.equal(q.empty(), true);
 * ```
 */
export class Queue<T = unknown> implements AsyncIterable<T> {
  readonly #ring: Ring;
  readonly #fail: ReturnType<typeof queueFailures>;

  /**
   * Make an empty queue.
   *
   * @param options `maxsize` (items) and `bytes` (ring size)
   * @throws {RangeError} when `maxsize` or `bytes` is out of range
   */
  constructor(options: QueueOptions = {}) {
    const { state, joinable } = takeAdopted();
    this.#ring = state !== undefined ? new Ring(state) : queueRing(options, "queue", joinable);
    rings.set(this, this.#ring);
    this.#fail = queueFailures(this.#ring, "queue");
  }

  /**
   * Put `item` at the tail, waiting while the queue is full.
   *
   * @param item the value to send
   * @param options `block` (false: fail at once when full), `timeout` (ms), `signal`
   * @throws {FullError} when full and `block` is false, or when the timeout passed; it holds the item
   * @throws {InvalidStateError} when the queue is closed
   * @throws {TypeError} when the item cannot be copied; the queue is unchanged
   * @throws {RangeError} when the timeout is negative or NaN
   */
  put(item: T, options?: BlockingOptions): Promise<void> {
    return putAsync(this.#ring, item, options, "put item on queue", this.#fail.put(item, options?.timeout));
  }

  /**
   * Put `item`, blocking this thread while the queue is full.
   *
   * @param item the value to send
   * @param options `block`, `timeout` (ms); an already aborted `signal` throws its reason
   * @throws {FullError} when full and `block` is false, or when the timeout passed
   * @throws {InvalidStateError} when the queue is closed
   * @throws {TypeError} when the item cannot be copied, or this thread may not block
   */
  putSync(item: T, options?: BlockingOptions): void {
    putSync(
      this.#ring,
      item,
      options,
      "put item on queue",
      "Queue.putSync()",
      "await queue.put()",
      this.#fail.put(item, options?.timeout),
    );
  }

  /**
   * Put `item` only if there is room now: `put(item, { block: false })`.
   *
   * @throws {FullError} when the queue is full
   */
  putNowait(item: T): void {
    this.putSync(item, { block: false });
  }

  /**
   * Take the item at the head, waiting while the queue is empty.
   *
   * @param options `block` (false: fail at once when empty), `timeout` (ms), `signal`
   * @returns the item
   * @throws {EmptyError} when empty and `block` is false, or when the timeout passed
   * @throws {InvalidStateError} when the queue is closed and empty
   * @throws {RangeError} when the timeout is negative or NaN
   */
  get(options?: BlockingOptions): Promise<T> {
    return getAsync<T>(this.#ring, options, "get item from queue", this.#fail.get(options?.timeout));
  }

  /**
   * Take the item at the head, blocking this thread while the queue is empty.
   *
   * @param options `block`, `timeout` (ms); an already aborted `signal` throws its reason
   * @returns the item
   * @throws {EmptyError} when empty and `block` is false, or when the timeout passed
   * @throws {InvalidStateError} when the queue is closed and empty
   * @throws {TypeError} when this thread may not block; use {@linkcode Queue.get}
   */
  getSync(options?: BlockingOptions): T {
    return getSync<T>(
      this.#ring,
      options,
      "get item from queue",
      "Queue.getSync()",
      "await queue.get()",
      this.#fail.get(options?.timeout),
    );
  }

  /**
   * Take the item at the head only if there is one now: `getSync({ block: false })`.
   *
   * @throws {EmptyError} when the queue is empty
   */
  getNowait(): T {
    return this.getSync({ block: false });
  }

  /** Items in the queue; approximate while other threads put and get, as in Python. */
  qsize(): number {
    return this.#ring.items();
  }

  /** Whether the queue holds no item; approximate, as {@linkcode Queue.qsize}. */
  empty(): boolean {
    return this.#ring.items() === 0;
  }

  /** Whether the queue holds `maxsize` items; always false without a maxsize. */
  full(): boolean {
    const max = this.#ring.maxsize;
    return max > 0 && this.#ring.items() >= max;
  }

  /** The bound given at creation, 0 for none. */
  get maxsize(): number {
    return this.#ring.maxsize;
  }

  /**
   * Close the queue for every thread: puts fail from now on, gets take what is left and
   * then fail, iteration ends. Idempotent.
   */
  close(): void {
    this.#ring.close();
  }

  /** Whether the queue was closed. */
  get closed(): boolean {
    return this.#ring.closed;
  }

  /** Take items until the queue is closed and empty. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return iterate<T>(this.#ring, ENDED, this.#fail.get(undefined));
  }

  /** A short description, like Python's repr. */
  toString(): string {
    return `<${this.constructor.name}(qsize=${this.qsize()}, maxsize=${this.maxsize})>`;
  }

  /** Describe this queue for another thread. */
  [toShared](): SharedState {
    return { kind: KIND, module: import.meta.url, state: this.#ring.state() };
  }
}

registerShareable(KIND, (state: RingState) => {
  adopt(state, false);
  return new Queue();
});

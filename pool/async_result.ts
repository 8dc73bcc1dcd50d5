import { raceDeadline } from "../_internal/deadline.ts";
import { checkTimeout } from "../_internal/deadline.ts";
import { InvalidStateError, TimeoutError } from "../errors.ts";

const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;

/**
 * The result of {@linkcode Pool.applyAsync}, {@linkcode Pool.mapAsync} or
 * {@linkcode Pool.starmapAsync}, like Python's `AsyncResult`. It is also awaitable.
 *
 * @typeParam T the value the task returns
 *
 * @example Usage
 * ```ts
 * import { AsyncResult } from "@mproc/multiprocessing/pool";
 * import assert from "node:assert/strict";
 * const result = new AsyncResult<number>((resolve) => resolve(42));
 * assert.equal(result.ready(), true);
 * assert.equal(await result.get(1000), 42);
 * assert.equal(await result, 42);
 * ```
 */
export class AsyncResult<T> implements PromiseLike<T> {
  readonly #promise: Promise<T>;
  #state = PENDING;

  /**
   * Make a result settled by `executor`, as a Promise is. Pools make these; user code
   * rarely needs to.
   *
   * @param executor receives `resolve` and `reject`, and runs at once
   */
  constructor(executor: (resolve: (value: T) => void, reject: (error: unknown) => void) => void) {
    this.#promise = new Promise<T>((resolve, reject) => {
      executor(
        (value) => {
          if (this.#state !== PENDING) return;
          this.#state = FULFILLED;
          resolve(value);
        },
        (error) => {
          if (this.#state !== PENDING) return;
          this.#state = REJECTED;
          reject(error);
        },
      );
    });
    // Like Python's, a result nobody asks for is not an error of the program.
    this.#promise.catch(() => {});
  }

  /**
   * The value, once the task has finished.
   *
   * @param timeout milliseconds to wait; `undefined` waits as long as it takes
   * @returns the task's value
   * @throws {TimeoutError} when the result is not ready in time (the task keeps running)
   * @throws the task's own error when it failed
   */
  async get(timeout?: number): Promise<T> {
    checkTimeout(timeout, "get the result");
    const outcome = await raceDeadline(this.#promise, timeout);
    if (!outcome.ok) throw new TimeoutError(`Cannot get the result: it was not ready within ${timeout} ms`);
    return outcome.value;
  }

  /**
   * Wait until the result is ready or `timeout` ms have passed.
   *
   * @returns whether the result is ready
   */
  async wait(timeout?: number): Promise<boolean> {
    checkTimeout(timeout, "wait for the result");
    try {
      await raceDeadline(this.#promise, timeout);
    } catch {
      // A failed task is ready too; the error is for get().
    }
    return this.#state !== PENDING;
  }

  /** Whether the task has finished, either way. */
  ready(): boolean {
    return this.#state !== PENDING;
  }

  /**
   * Whether the task finished without an error.
   *
   * @throws {InvalidStateError} when the result is not ready yet
   */
  successful(): boolean {
    if (this.#state === PENDING) {
      throw new InvalidStateError("Cannot tell whether the task succeeded: the result is not ready");
    }
    return this.#state === FULFILLED;
  }

  /** Await the value: `await pool.applyAsync(...)`. */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promise.then(onFulfilled, onRejected);
  }
}

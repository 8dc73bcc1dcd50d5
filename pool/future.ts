import { checkTimeout, raceDeadline } from "../_internal/deadline.ts";
import { CancelledError, InvalidStateError, TimeoutError } from "../errors.ts";

const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;
const CANCELLED = 3;

/** How a {@linkcode Future} asks its executor about the work behind it. */
export interface FutureHooks {
  /** Withdraw the work if it has not started; true when withdrawn. */
  cancel?(): boolean;
  /** Whether the work has started. */
  running?(): boolean;
}

/**
 * The eventual result of {@linkcode ProcessPoolExecutor.submit}, like Python's
 * `concurrent.futures.Future`. It is also awaitable.
 *
 * @typeParam T the value of the work
 *
 * @example Usage
 * ```ts
 * import { Future } from "@mproc/multiprocessing/pool";
 * import assert from "node:assert/strict";
 * const future = new Future<number>();
 * future.setResult(7);
 * assert.equal(future.done(), true);
 * assert.equal(await future.result(), 7);
 * assert.equal(await future, 7);
 * ```
 */
export class Future<T> implements PromiseLike<T> {
  readonly #hooks: FutureHooks;
  readonly #promise: Promise<T>;
  // Typed loosely so that a Future<number> is also a Future<unknown>.
  #resolve!: (value: unknown) => void;
  #reject!: (error: unknown) => void;
  #state = PENDING;
  #error: unknown = null;
  #callbacks: (() => void)[] = [];

  /**
   * Make a pending future. Executors make these; user code rarely needs to.
   *
   * @param hooks how to cancel the work behind it and tell whether it runs
   */
  constructor(hooks: FutureHooks = {}) {
    this.#hooks = hooks;
    this.#promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve as (value: unknown) => void;
      this.#reject = reject;
    });
    // A future nobody awaits is not an error of the program, as in Python.
    this.#promise.catch(() => {});
  }

  /**
   * The value, once the work is done.
   *
   * @param timeout milliseconds to wait; `undefined` waits as long as it takes
   * @throws {TimeoutError} when not done in time
   * @throws {CancelledError} when the future was cancelled
   * @throws the work's own error when it failed
   */
  async result(timeout?: number): Promise<T> {
    checkTimeout(timeout, "get the result of a future");
    const outcome = await raceDeadline(this.#promise, timeout);
    if (!outcome.ok) throw new TimeoutError(`Cannot get the result of a future: it was not done within ${timeout} ms`);
    return outcome.value;
  }

  /**
   * The error the work failed with, or `null` when it succeeded.
   *
   * @throws {TimeoutError} when not done in time
   * @throws {CancelledError} when the future was cancelled
   */
  async exception(timeout?: number): Promise<unknown> {
    checkTimeout(timeout, "get the exception of a future");
    const outcome = await raceDeadline(this.#promise.then(() => null, () => null), timeout);
    if (!outcome.ok) {
      throw new TimeoutError(`Cannot get the exception of a future: it was not done within ${timeout} ms`);
    }
    if (this.#state === CANCELLED) throw this.#error;
    return this.#state === REJECTED ? this.#error : null;
  }

  /** Whether the future has a result, an error, or was cancelled. */
  done(): boolean {
    return this.#state !== PENDING;
  }

  /** Whether the work is running now (a worker holds it) and not done. */
  running(): boolean {
    return this.#state === PENDING && (this.#hooks.running?.() ?? false);
  }

  /** Whether the future was cancelled. */
  cancelled(): boolean {
    return this.#state === CANCELLED;
  }

  /**
   * Cancel the work if it has not started.
   *
   * @returns whether the future is now cancelled (true if it already was)
   */
  cancel(): boolean {
    if (this.#state === CANCELLED) return true;
    if (this.#state !== PENDING) return false;
    if (this.#hooks.running?.() === true) return false;
    if (this.#hooks.cancel !== undefined && !this.#hooks.cancel()) return false;
    this.#settle(CANCELLED, new CancelledError("Cannot get the result of a future: it was cancelled"));
    return true;
  }

  /**
   * Call `fn(future)` once the future is done (soon, if it already is). Errors `fn`
   * throws are reported as uncaught.
   */
  addDoneCallback(fn: (future: Future<T>) => void): void {
    if (typeof fn !== "function") {
      throw new TypeError(`Cannot add a done callback: expected a function, got ${String(fn)}`);
    }
    if (this.#state === PENDING) this.#callbacks.push(() => fn(this));
    else queueMicrotask(() => fn(this));
  }

  /**
   * Set the value (for executors).
   *
   * @throws {InvalidStateError} when the future is already done
   */
  setResult(value: T): void {
    if (this.#state !== PENDING) throw new InvalidStateError("Cannot set the result of a future: it is already done");
    this.#settle(FULFILLED, value);
  }

  /**
   * Set the error (for executors).
   *
   * @throws {InvalidStateError} when the future is already done
   */
  setException(error: unknown): void {
    if (this.#state !== PENDING) {
      throw new InvalidStateError("Cannot set the exception of a future: it is already done");
    }
    this.#settle(REJECTED, error);
  }

  /** Await the value: `await executor.submit(...)`. */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promise.then(onFulfilled, onRejected);
  }

  /** A short description, like Python's repr. */
  toString(): string {
    const state = ["pending", "finished", "finished", "cancelled"][this.#state];
    return `<Future state=${this.running() ? "running" : state}>`;
  }

  #settle(state: number, value: unknown): void {
    this.#state = state;
    if (state === FULFILLED) this.#resolve(value);
    else {
      this.#error = value;
      this.#reject(value);
    }
    const callbacks = this.#callbacks;
    this.#callbacks = [];
    for (const fn of callbacks) queueMicrotask(fn);
  }
}

// Futures and the ways to wait on many of them, as CPython keeps Future, wait and
// as_completed together in concurrent/futures/_base.py. wait and asCompleted watch their
// futures through a private hook that they remove when they return, so waiting costs
// O(1) per completion and leaves nothing behind on a future that outlives the wait.
import { checkTimeout, deadlineOf, raceDeadline, timeLeft } from "../_internal/deadline.ts";
import { CancelledError, InvalidStateError, TimeoutError } from "../errors.ts";

const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;
const CANCELLED = 3;

type Watcher = (future: Future<unknown>) => void;
/** Call `fn(future)` synchronously when the pending `future` settles. */
let watch: (future: Future<unknown>, fn: Watcher) => void;
/** Stop watching. */
let unwatch: (future: Future<unknown>, fn: Watcher) => void;
/** Whether a done future failed (not cancelled). */
let failed: (future: Future<unknown>) => boolean;

/** {@linkcode wait} returns when any future finishes or is cancelled. */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/** {@linkcode wait} returns when any future fails, or when all are done. */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/** {@linkcode wait} returns when all futures are done. */
export const ALL_COMPLETED = "ALL_COMPLETED";
/** When {@linkcode wait} returns. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/** Options for {@linkcode asCompleted}. */
export interface AsCompletedOptions {
  /**
   * Milliseconds, from the first `next()`, for all the futures to finish.
   * @default {undefined} (no limit)
   */
  timeout?: number;
}

/** Options for {@linkcode wait}. */
export interface WaitOptions {
  /**
   * Milliseconds to wait at most; then the split is returned as it stands.
   * @default {undefined} (no limit)
   */
  timeout?: number;
  /**
   * When to return.
   * @default {ALL_COMPLETED}
   */
  returnWhen?: ReturnWhen;
}

/**
 * A future as {@linkcode asCompleted} yields it: the very same {@linkcode Future} object,
 * typed without `then`. TypeScript types the variable of a `for await` loop as the awaited
 * element, which would turn a thenable future into its value; this type keeps it a future.
 * Use `await f.result()` for the value, and `f as F` where the future itself is needed.
 */
export type CompletedFuture<F extends Future<unknown>> = Omit<F, "then">;

/** What {@linkcode wait} returns: the futures that are done and those that are not. */
export interface WaitResult<F extends Future<unknown>> {
  /** The futures that finished, failed or were cancelled. */
  done: Set<F>;
  /** The futures still pending or running. */
  notDone: Set<F>;
}

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
  #watchers: Set<Watcher> | null = null;

  static {
    watch = (future, fn) => (future.#watchers ??= new Set()).add(fn);
    unwatch = (future, fn) => future.#watchers?.delete(fn);
    failed = (future) => future.#state === REJECTED;
  }

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
    const watchers = this.#watchers;
    this.#watchers = null;
    if (watchers !== null) { for (const fn of watchers) fn(this); }
    const callbacks = this.#callbacks;
    this.#callbacks = [];
    for (const fn of callbacks) queueMicrotask(fn);
  }
}

/**
 * Yield the futures as they finish (those already done first), like Python's
 * `concurrent.futures.as_completed`.
 *
 * @param futures the futures; duplicates are yielded once
 * @returns the same future objects, typed as {@linkcode CompletedFuture} (see there why)
 * @throws {TimeoutError} from the iterator when some are still pending after `timeout` ms
 *
 * @example Usage
 * ```ts
 * import { asCompleted, Future } from "@mproc/multiprocessing/pool";
 * import assert from "node:assert/strict";
 * const a = new Future<string>();
 * const b = new Future<string>();
 * setTimeout(() => b.setResult("b"), 1);
 * setTimeout(() => a.setResult("a"), 20);
 * const order = [];
 * for await (const f of asCompleted([a, b], { timeout: 5000 })) order.push(await f.result());
 * assert.deepEqual(order, ["b", "a"]);
 * ```
 */
export function asCompleted<F extends Future<unknown>>(
  futures: Iterable<F>,
  options: AsCompletedOptions = {},
): AsyncIterableIterator<CompletedFuture<F>> {
  const { timeout } = options;
  checkTimeout(timeout, "wait for futures");
  const all = new Set(futures);
  const pending = new Set<Future<unknown>>();
  let finished: (F | undefined)[] = [];
  let head = 0;
  let wake: (() => void) | null = null;
  const onDone: Watcher = (future) => {
    if (!pending.delete(future)) return;
    finished.push(future as F);
    wake?.();
  };
  for (const future of all) {
    if (future.done()) finished.push(future);
    else {
      pending.add(future);
      watch(future, onDone);
    }
  }
  const release = () => {
    for (const future of pending) unwatch(future, onDone);
    pending.clear();
    finished = [];
    head = 0;
  };
  let deadline: number | undefined;
  // Not an async generator: it would await each yielded future and yield its value.
  const iterator: AsyncIterableIterator<CompletedFuture<F>> = {
    [Symbol.asyncIterator]: () => iterator,
    async next(): Promise<IteratorResult<CompletedFuture<F>>> {
      deadline ??= deadlineOf(timeout);
      for (;;) {
        if (head < finished.length) {
          const future = finished[head]!;
          finished[head++] = undefined;
          if (head === finished.length) {
            finished = [];
            head = 0;
          }
          return { done: false, value: future };
        }
        if (pending.size === 0) return { done: true, value: undefined };
        const left = timeLeft(deadline);
        if (left === 0) {
          const error = new TimeoutError(
            `Cannot wait for futures: ${pending.size} (of ${all.size}) futures unfinished after ${timeout} ms`,
          );
          release();
          throw error;
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (left !== Infinity) timer = setTimeout(resolve, left);
        });
        wake = null;
        clearTimeout(timer);
      }
    },
    return(): Promise<IteratorResult<CompletedFuture<F>>> {
      release();
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  return iterator;
}

/**
 * Wait until some or all futures are done, like Python's `concurrent.futures.wait`.
 *
 * @returns the futures that are done and those that are not
 * @throws {RangeError} when `returnWhen` or `timeout` is invalid
 *
 * @example Usage
 * ```ts
 * import { Future, FIRST_COMPLETED, wait } from "@mproc/multiprocessing/pool";
 * import assert from "node:assert/strict";
 * const a = new Future<number>();
 * const b = new Future<number>();
 * a.setResult(1);
 * const { done, notDone } = await wait([a, b], { returnWhen: FIRST_COMPLETED });
 * assert.ok(done.has(a) && notDone.has(b));
 * ```
 */
export async function wait<F extends Future<unknown>>(
  futures: Iterable<F>,
  options: WaitOptions = {},
): Promise<WaitResult<F>> {
  const { timeout, returnWhen = ALL_COMPLETED } = options;
  checkTimeout(timeout, "wait for futures");
  if (returnWhen !== FIRST_COMPLETED && returnWhen !== FIRST_EXCEPTION && returnWhen !== ALL_COMPLETED) {
    throw new RangeError(
      `Cannot wait for futures: returnWhen must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got ${
        String(returnWhen)
      }`,
    );
  }
  const all = new Set(futures);
  const pending = new Set<Future<unknown>>();
  let doneCount = 0;
  let anyFailed = false;
  for (const future of all) {
    if (!future.done()) pending.add(future);
    else {
      doneCount++;
      if (failed(future)) anyFailed = true;
    }
  }
  const satisfied = () =>
    pending.size === 0 || (returnWhen === FIRST_COMPLETED && doneCount > 0)
    || (returnWhen === FIRST_EXCEPTION && anyFailed);
  if (!satisfied() && timeout !== 0) {
    await new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = () => {
        clearTimeout(timer);
        for (const future of pending) unwatch(future, onDone);
        resolve();
      };
      const onDone: Watcher = (future) => {
        if (!pending.delete(future)) return;
        doneCount++;
        if (failed(future)) anyFailed = true;
        if (satisfied()) finish();
      };
      for (const future of pending) watch(future, onDone);
      if (timeout !== undefined && timeout !== Infinity) timer = setTimeout(finish, timeout);
    });
  }
  const done = new Set<F>();
  const notDone = new Set<F>();
  for (const future of all) (future.done() ? done : notDone).add(future);
  return { done, notDone };
}

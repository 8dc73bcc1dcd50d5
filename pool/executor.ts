import { checkTimeout } from "../_internal/deadline.ts";
import type { Encoded } from "../_internal/shareable.ts";
import { runtime } from "../_runtime/mod.ts";
import { BrokenProcessPoolError, InvalidStateError, TimeoutError } from "../errors.ts";
import { isTaskRef, type TaskRef, type TaskResult } from "../task.ts";
import { checkChunksize, splitChunks } from "./_chunk.ts";
import { encodeArgs, encodeChunk, encodeMapCall, encodeStarCall } from "./_payload.ts";
import { CALL, MAP, type Mode, STARMAP } from "./_protocol.ts";
import { Scheduler } from "./_scheduler.ts";
import { checkWorkerSetup } from "./_worker_setup.ts";
import { Future } from "./future.ts";

/** {@linkcode wait} returns when any future finishes or is cancelled. */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/** {@linkcode wait} returns when any future fails, or when all are done. */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/** {@linkcode wait} returns when all futures are done. */
export const ALL_COMPLETED = "ALL_COMPLETED";
/** When {@linkcode wait} returns. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/** Options for {@linkcode ProcessPoolExecutor}. */
export interface ProcessPoolExecutorOptions {
  /**
   * Number of worker threads.
   * @default {cpuCount()}
   */
  maxWorkers?: number;
  /** Task each worker runs once, before any other task. */
  initializer?: TaskRef;
  /**
   * Arguments for the initializer; shareable objects arrive live.
   * @default {[]}
   */
  initargs?: readonly unknown[];
  /**
   * Tasks a worker runs before it is replaced by a fresh one.
   * @default {undefined} (workers live as long as the executor)
   */
  maxTasksPerChild?: number;
}

/** Options for {@linkcode ProcessPoolExecutor.map} and {@linkcode ProcessPoolExecutor.starmap}. */
export interface ExecutorMapOptions {
  /**
   * Milliseconds, from the call, within which every result must be ready; a late one
   * throws `TimeoutError` from the iterator.
   * @default {undefined} (no limit)
   */
  timeout?: number;
  /**
   * Items sent to a worker as one task.
   * @default {1}
   */
  chunksize?: number;
}

/** Options for {@linkcode ProcessPoolExecutor.shutdown}. */
export interface ShutdownOptions {
  /**
   * Wait until the pending futures are done and the workers have exited.
   * @default {true}
   */
  wait?: boolean;
  /**
   * Cancel the futures that have not started.
   * @default {false}
   */
  cancelFutures?: boolean;
}

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

/** The reason a queued task is withdrawn for a cancelled future; never seen by users. */
const WITHDRAWN: unique symbol = Symbol("withdrawn");

function isSyncIterable(value: unknown): value is Iterable<unknown> {
  return value !== null && typeof (value as Iterable<unknown>)?.[Symbol.iterator] === "function";
}

async function collect(iterable: Iterable<unknown> | AsyncIterable<unknown>, what: string): Promise<unknown[]> {
  if (isSyncIterable(iterable)) return Array.from(iterable);
  if (iterable !== null && typeof (iterable as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === "function") {
    const out: unknown[] = [];
    for await (const item of iterable) out.push(item);
    return out;
  }
  throw new TypeError(`Cannot ${what}: the input must be an iterable or async iterable, got ${String(iterable)}`);
}

/**
 * A pool of worker threads behind futures, like Python's
 * `concurrent.futures.ProcessPoolExecutor`.
 *
 * A task that throws fails only its own future. As in Python, a worker that dies while
 * the executor has work breaks the executor: every pending future fails with
 * `BrokenProcessPoolError` and new submissions are refused (a {@linkcode Pool} replaces
 * the worker instead).
 *
 * @example Usage
 * ```ts
 * import { asCompleted, ProcessPoolExecutor, taskModule } from "@mproc/multiprocessing/pool";
 * import assert from "node:assert/strict";
 * const tasks = taskModule<typeof import("./tests/testdata/pool_tasks.ts")>(
 *   new URL("./tests/testdata/pool_tasks.ts", import.meta.url),
 * );
 * await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const future = executor.submit(tasks.fib, 20);
 * assert.equal(await future.result(), 6765);
 * const results = [];
 * for await (const x of executor.map(tasks.square, [1, 2, 3])) results.push(x);
 * assert.deepEqual(results, [1, 4, 9]);
 * for await (const f of asCompleted([executor.submit(tasks.square, 4)])) assert.equal(await f.result(), 16);
 * ```
 */
export class ProcessPoolExecutor implements AsyncDisposable {
  readonly #scheduler: Scheduler;
  readonly #maxWorkers: number;
  readonly #pending = new Set<Future<unknown>>();
  #shutdown = false;

  /**
   * Start the workers.
   *
   * @throws {RangeError} when `maxWorkers` or `maxTasksPerChild` is not a positive integer
   * @throws {TypeError} when `initializer` is not a task reference or `initargs` cannot be sent
   */
  constructor(options: ProcessPoolExecutorOptions = {}) {
    const { maxWorkers = runtime.cpuCount(), initializer, initargs = [], maxTasksPerChild } = options;
    const checked = checkWorkerSetup(
      { count: maxWorkers, initializer, initargs, maxTasksPerChild },
      "an executor",
      "maxWorkers",
    );
    this.#maxWorkers = maxWorkers;
    this.#scheduler = new Scheduler({
      processes: maxWorkers,
      ...checked,
      maxTasksPerChild,
      workerName: "ProcessPoolWorker",
      owner: "executor",
      breakOnDeath: true,
    });
  }

  /** Number of workers. */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  /**
   * Schedule `fn(...args)` and return its future.
   *
   * @throws {InvalidStateError} after `shutdown()`
   * @throws {BrokenProcessPoolError} when a worker died and the executor is broken
   * @throws {TypeError} when an argument cannot be sent to a worker
   */
  // deno-lint-ignore no-explicit-any
  submit<F extends (...args: any[]) => unknown>(fn: TaskRef<F>, ...args: Parameters<F>): Future<TaskResult<F>> {
    this.#check(fn);
    return this.#submit(fn, CALL, encodeArgs(args, "args")) as Future<TaskResult<F>>;
  }

  /**
   * Run `fn(item)` for every item; yield the values in input order. The input is read and
   * every task submitted at the call, as in Python; leaving the loop early cancels the
   * tasks that have not started.
   *
   * @throws {InvalidStateError} after `shutdown()`
   * @throws {TimeoutError} from the iterator when a value is not ready within `timeout` of the call
   */
  // deno-lint-ignore no-explicit-any
  map<F extends (arg: any) => unknown>(
    fn: TaskRef<F>,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    options: ExecutorMapOptions = {},
  ): AsyncIterableIterator<TaskResult<F>> {
    return this.#map(fn, false, iterable, options, "map") as AsyncIterableIterator<TaskResult<F>>;
  }

  /**
   * Run `fn(...args)` for every argument list; yield the values in input order (Python's
   * `map(fn, *iterables)`).
   *
   * @throws {InvalidStateError} after `shutdown()`
   */
  // deno-lint-ignore no-explicit-any
  starmap<F extends (...args: any[]) => unknown>(
    fn: TaskRef<F>,
    iterable: Iterable<Parameters<F>> | AsyncIterable<Parameters<F>>,
    options: ExecutorMapOptions = {},
  ): AsyncIterableIterator<TaskResult<F>> {
    return this.#map(fn, true, iterable, options, "starmap") as AsyncIterableIterator<TaskResult<F>>;
  }

  /**
   * Take no new work; with `wait`, resolve once the pending futures are done and the
   * workers have exited. Idempotent.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = options;
    this.#shutdown = true;
    if (cancelFutures) { for (const future of [...this.#pending]) future.cancel(); }
    this.#scheduler.close();
    if (wait) await this.#scheduler.join();
  }

  /** `await using` shuts the executor down and waits, as Python's `with` does. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }

  #check(fn: TaskRef): void {
    if (!isTaskRef(fn)) {
      throw new TypeError(`Cannot submit a task: expected a task reference (see taskModule), got ${String(fn)}`);
    }
    if (this.#shutdown) throw new InvalidStateError(`Cannot submit task "${fn.name}": the executor was shut down`);
    const broken = this.#scheduler.broken;
    if (broken !== null) {
      throw new BrokenProcessPoolError(`Cannot submit task "${fn.name}": ${broken.message}`, { cause: broken });
    }
  }

  #submit(fn: TaskRef, mode: Mode, payload: Encoded): Future<unknown> {
    const scheduler = this.#scheduler;
    const pending = this.#pending;
    // deno-lint-ignore prefer-const
    let task: ReturnType<Scheduler["submit"]>;
    const future = new Future<unknown>({
      cancel: () => scheduler.cancel(task, WITHDRAWN),
      running: () => scheduler.isDispatched(task),
    });
    pending.add(future);
    task = scheduler.submit(fn, mode, payload, (failed, value) => {
      pending.delete(future);
      if (value === WITHDRAWN) return;
      if (failed) future.setException(value);
      else future.setResult(value);
    });
    return future;
  }

  #map(
    fn: TaskRef,
    spread: boolean,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options: ExecutorMapOptions,
    method: string,
  ): AsyncIterableIterator<unknown> {
    const { timeout, chunksize = 1 } = options;
    const what = `run ${method} of task "${fn?.name}"`;
    checkTimeout(timeout, what);
    checkChunksize(chunksize, what);
    this.#check(fn);
    const deadline = timeout === undefined ? undefined : Date.now() + timeout;
    const submitAll = (items: unknown[]): Future<unknown>[] => {
      this.#check(fn);
      if (chunksize === 1) {
        return items.map((item, i) =>
          this.#submit(
            fn,
            CALL,
            spread ? encodeStarCall(item, `iterable[${i}]`, what) : encodeMapCall(item, `iterable[${i}]`),
          )
        );
      }
      return splitChunks(items, chunksize).map((chunk, c) => {
        if (spread) {
          for (const [j, item] of chunk.entries()) encodeStarCall(item, `iterable[${c * chunksize + j}]`, what);
        }
        return this.#submit(fn, spread ? STARMAP : MAP, encodeChunk(chunk, c * chunksize, "iterable"));
      });
    };
    const submitted = isSyncIterable(iterable)
      ? Promise.resolve(submitAll(Array.from(iterable)))
      : collect(iterable, what).then(submitAll);
    submitted.catch(() => {});
    return (async function*() {
      const futures = await submitted;
      let i = 0;
      try {
        for (; i < futures.length; i++) {
          const left = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
          let value: unknown;
          try {
            value = await futures[i].result(left);
          } catch (error) {
            if (error instanceof TimeoutError) {
              throw new TimeoutError(`Cannot ${what}: result ${i} was not ready within ${timeout} ms`);
            }
            throw error;
          }
          if (chunksize === 1) yield value;
          else yield* value as unknown[];
        }
      } finally {
        for (let j = i + 1; j < futures.length; j++) futures[j].cancel();
      }
    })();
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
  let deadline: number | undefined;
  const pending = new Set<F>();
  const finished: F[] = [];
  let wake: (() => void) | null = null;
  for (const future of all) {
    if (future.done()) finished.push(future);
    else {
      pending.add(future);
      future.addDoneCallback(() => {
        if (!pending.delete(future)) return;
        finished.push(future);
        wake?.();
      });
    }
  }
  // Not an async generator: it would await each yielded future and yield its value.
  const iterator: AsyncIterableIterator<CompletedFuture<F>> = {
    [Symbol.asyncIterator]: () => iterator,
    async next(): Promise<IteratorResult<CompletedFuture<F>>> {
      if (timeout !== undefined) deadline ??= Date.now() + timeout;
      for (;;) {
        if (finished.length > 0) return { done: false, value: finished.shift()! };
        if (pending.size === 0) return { done: true, value: undefined };
        const left = deadline === undefined ? undefined : deadline - Date.now();
        if (left !== undefined && left <= 0) {
          const error = new TimeoutError(
            `Cannot wait for futures: ${pending.size} (of ${all.size}) futures unfinished after ${timeout} ms`,
          );
          pending.clear();
          throw error;
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (left !== undefined) timer = setTimeout(resolve, left);
        });
        wake = null;
        clearTimeout(timer);
      }
    },
    return(): Promise<IteratorResult<CompletedFuture<F>>> {
      pending.clear();
      finished.length = 0;
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
  const satisfied = async (): Promise<boolean> => {
    let done = 0;
    let anyFailed = false;
    for (const future of all) {
      if (!future.done()) continue;
      done++;
      if (returnWhen === FIRST_EXCEPTION && !future.cancelled() && (await future.exception(0)) !== null) {
        anyFailed = true;
      }
    }
    if (done === all.size) return true;
    if (returnWhen === FIRST_COMPLETED) return done > 0;
    if (returnWhen === FIRST_EXCEPTION) return anyFailed;
    return false;
  };
  if (!(await satisfied()) && timeout !== 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      for (const future of all) {
        if (!future.done()) future.addDoneCallback(() => void satisfied().then((yes) => yes && resolve()));
      }
      if (timeout !== undefined) timer = setTimeout(resolve, timeout);
    });
    clearTimeout(timer);
  }
  const done = new Set<F>();
  const notDone = new Set<F>();
  for (const future of all) (future.done() ? done : notDone).add(future);
  return { done, notDone };
}

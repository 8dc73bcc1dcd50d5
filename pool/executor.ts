import { valuesInOrder } from "../_internal/in_order.ts";
import { checkMapOptions, type MapInput, mapWhat, readInput } from "../_internal/map_input.ts";
import type { Encoded } from "../_internal/shareable.ts";
import { runtime } from "../_runtime/mod.ts";
import { FullError } from "../errors.ts";
import type { StartMethod } from "../process/mod.ts";
import type { TaskRef, TaskResult } from "../task.ts";
import type { Job, JobHooks } from "./_job.ts";
import { mapProgress, type MapProgressCount } from "./_map_progress.ts";
import { encodeArgs } from "./_payload.ts";
import { CALL, type Mode } from "./_protocol.ts";
import { Scheduler } from "./_scheduler.ts";
import { openStream } from "./_stream.ts";
import { checkSubmit, encodeMapJobs, mapMode } from "./_submit.ts";
import { checkWorkerSetup } from "./_worker_setup.ts";
import { Future } from "./future.ts";
import type { ApplyArgs, StreamItem, StreamOptions } from "./pool.ts";
import type { MapProgress } from "./progress.ts";
import type { PoolStats } from "./stats.ts";

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
  /**
   * Workers the pool keeps however idle it is; it starts with these and starts more, up to
   * `maxWorkers`, while it holds more tasks than workers.
   * @default {maxWorkers} without `idleTimeout`, else 0
   */
  minProcesses?: number;
  /**
   * Milliseconds a worker beyond `minProcesses` may go without a task before it exits; new
   * work starts workers again. The wait never keeps the program alive.
   * @default {undefined} (workers never exit for idling)
   */
  idleTimeout?: number;
  /**
   * Bytes of JavaScript heap a worker may hold after a task (garbage not yet collected
   * included; measured in the worker, on every runtime and in OS children); past it the
   * worker finishes the task it runs and is replaced, its unstarted tasks run elsewhere.
   * @default {undefined} (no limit)
   */
  maxMemoryPerChild?: number;
  /**
   * Tasks that may wait unstarted: a single submission beyond it throws `FullError`;
   * await `drained()` before submitting again. A map queues all its chunks (its input is
   * read already) and imap reads its input only while there is room.
   * @default {undefined} (no limit)
   */
  maxQueue?: number;
  /**
   * Where the workers run: `getContext("thread")` (worker threads) or
   * `getContext("process")` (OS child processes, which take no shared-memory arguments).
   * @default {getContext()} (the default start method)
   */
  context?: { readonly startMethod: StartMethod };
  /**
   * Bound on each worker's JavaScript heap in MiB, for `getContext("process")` only: a
   * worker that grows past it dies, its task fails with a `WorkerDiedError`, and a new
   * worker takes its place. Node and Deno pass V8's `--max-old-space-size`; Bun, which
   * has no heap bound, gets an address-space limit of this much plus its own ~640 MiB,
   * past which an allocation may instead fail with a `RangeError` the task can catch.
   * @default {undefined} (the runtime's own limit)
   */
  maxHeapMiB?: number;
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
  /**
   * Called with `{ done, total }` each time a chunk's results arrive, and with
   * `{ done, total, index, value }` for each value a task reports with `reportProgress()`.
   */
  onProgress?: (progress: MapProgress) => void;
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

/** The reason a queued job is withdrawn for a cancelled future; never seen by users. */
const WITHDRAWN: unique symbol = Symbol("withdrawn");

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
   * @throws {RangeError} when `maxWorkers` or `maxTasksPerChild` is not a positive integer, or
   * a sizing option (`minProcesses`, `idleTimeout`, `maxMemoryPerChild`, `maxQueue`) is out of range
   * @throws {TypeError} when `initializer` is not a task reference or `initargs` cannot be sent
   */
  constructor(options: ProcessPoolExecutorOptions = {}) {
    const { maxWorkers = runtime.cpuCount(), initializer, initargs = [], maxTasksPerChild, context } = options;
    // Every other option (maxHeapMiB and the sizing ones) passes through as it was given.
    const checked = checkWorkerSetup(
      { ...options, count: maxWorkers, initializer, initargs, maxTasksPerChild, context },
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
   * @throws {FullError} when `maxQueue` tasks are queued already
   * @throws {TypeError} when an argument cannot be sent to a worker
   */
  // deno-lint-ignore no-explicit-any
  submit<F extends (...args: any[]) => unknown>(fn: TaskRef<F>, ...args: Parameters<F>): Future<TaskResult<F>> {
    this.#check(fn);
    if (this.#scheduler.full()) {
      throw new FullError(
        `Cannot submit task "${fn.name}": the executor holds ${this.#scheduler.queued} unstarted tasks, its maxQueue; await executor.drained() before submitting more`,
        args,
      );
    }
    this.#scheduler.checkSendable(args, "args");
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
   * Counts, run and wait times and utilization of the executor's tasks so far (see
   * {@linkcode PoolStats}). Cheap enough to poll.
   */
  stats(): PoolStats {
    return this.#scheduler.stats();
  }

  /**
   * Resolve once fewer than `maxQueue` tasks wait unstarted (without `maxQueue`, once none
   * does), so a submission made then is accepted: the way to wait after a `FullError`.
   */
  drained(): Promise<void> {
    return this.#scheduler.drained();
  }

  /**
   * Run `fn(...args)`, a generator (`async function*` or `function*`), in a worker and
   * yield what it yields, in order, as `Pool.stream` does: at most `highWaterMark` values
   * wait for a slow consumer, `break` ends the generator and frees the worker. A worker
   * that dies mid-stream breaks the executor, as for any task.
   *
   * @param fn a task that returns a generator
   * @param args its arguments
   * @returns an async iterator of the yields
   * @throws {InvalidStateError} after `shutdown()`
   * @throws {RangeError} when `highWaterMark` is not a positive integer
   *
   * @example Usage
   * ```ts
   * import { ProcessPoolExecutor, taskModule } from "@mproc/multiprocessing/pool";
   * import assert from "node:assert/strict";
   * const tasks = taskModule<typeof import("./tests/testdata/stream_tasks.ts")>(
   *   new URL("./tests/testdata/stream_tasks.ts", import.meta.url),
   * );
   * await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
   * const got: number[] = [];
   * for await (const n of executor.stream(tasks.count, [3], { highWaterMark: 2 })) got.push(n);
   * assert.deepEqual(got, [0, 1, 2]);
   * ```
   */
  // deno-lint-ignore no-explicit-any
  stream<F extends (...args: any[]) => unknown>(
    fn: TaskRef<F>,
    ...[args, options = {}]: ApplyArgs<F, StreamOptions>
  ): AsyncIterableIterator<StreamItem<F>> & AsyncDisposable {
    this.#check(fn);
    return openStream(this.#scheduler, fn, args ?? [], options);
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

  /**
   * Cancel the futures whose tasks have not started (their `result()` throws
   * `CancelledError`); running tasks finish. With OS worker processes (the process
   * context), the few tasks a worker already holds in line still run.
   *
   * @returns how many futures were cancelled
   *
   * @example Usage
   * ```ts
   * import { ProcessPoolExecutor, taskModule } from "@mproc/multiprocessing";
   * import assert from "node:assert/strict";
   * const tasks = taskModule<typeof import("./tests/testdata/pool_tasks.ts")>(
   *   new URL("./tests/testdata/pool_tasks.ts", import.meta.url),
   * );
   * await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
   * const futures = [1, 2, 3].map((x) => executor.submit(tasks.square, x));
   * const dropped = executor.cancelPending();
   * assert.equal(futures.filter((f) => f.cancelled()).length, dropped);
   * ```
   */
  cancelPending(): number {
    this.#scheduler.takeBack();
    let cancelled = 0;
    for (const future of [...this.#pending]) if (future.cancel()) cancelled++;
    return cancelled;
  }

  /** `await using` shuts the executor down and waits, as Python's `with` does. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }

  #check(fn: TaskRef): void {
    checkSubmit(this.#scheduler, fn, "the executor was shut down");
  }

  #submit(
    fn: TaskRef,
    mode: Mode,
    payload: Encoded,
    index?: number,
    progress?: MapProgressCount,
  ): Future<unknown> {
    const scheduler = this.#scheduler;
    const pending = this.#pending;
    // deno-lint-ignore prefer-const
    let job: Job;
    const future = new Future<unknown>({
      cancel: () => scheduler.cancel(job, WITHDRAWN),
      running: () => scheduler.isDispatched(job),
    });
    pending.add(future);
    const hooks: JobHooks | undefined = progress?.hooks();
    job = scheduler.submit(
      fn,
      mode,
      payload,
      (failed, value) => {
        pending.delete(future);
        if (value === WITHDRAWN) return;
        progress?.add(job.size);
        if (failed) future.setException(value);
        else future.setResult(value);
      },
      undefined,
      index,
      hooks,
    );
    return future;
  }

  #map(
    fn: TaskRef,
    spread: boolean,
    iterable: MapInput,
    options: ExecutorMapOptions,
    method: string,
  ): AsyncIterableIterator<unknown> {
    const { timeout, chunksize = 1 } = options;
    const what = mapWhat(method, fn);
    this.#check(fn);
    checkMapOptions(options, what);
    const progress = mapProgress(options.onProgress, undefined, what);
    const submitAll = (items: unknown[]): Future<unknown>[] => {
      this.#check(fn);
      const mode = mapMode(chunksize, spread);
      this.#scheduler.checkSendableItems(items, 0);
      progress?.expect(items.length);
      return encodeMapJobs(items, chunksize, spread, what).map((payload, k) =>
        this.#submit(fn, mode, payload, k * chunksize, progress)
      );
    };
    const items = readInput(iterable, what);
    const submitted = Array.isArray(items) ? Promise.resolve(submitAll(items)) : items.then(submitAll);
    submitted.catch(() => {});
    return valuesInOrder(submitted, chunksize, timeout, what);
  }
}

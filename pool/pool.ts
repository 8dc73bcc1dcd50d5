import { checkMapOptions, type MapInput, mapWhat, openInput, readInput } from "../_internal/map_input.ts";
import { runtime } from "../_runtime/mod.ts";
import { CancelledError, FullError, InvalidStateError } from "../errors.ts";
import type { StartMethod } from "../process/mod.ts";
import type { TaskRef, TaskResult } from "../task.ts";
import { defaultChunksize } from "./_chunk.ts";
import { Imap, imapAhead } from "./_imap.ts";
import type { Job } from "./_job.ts";
import { callProgress, mapProgress } from "./_map_progress.ts";
import { encodeArgs } from "./_payload.ts";
import { asksForSignal, poolCallSignal } from "./_pool_call.ts";
import { CALL } from "./_protocol.ts";
import { Scheduler } from "./_scheduler.ts";
import { openStream } from "./_stream.ts";
import { checkSubmit, encodeMapJobs, mapMode } from "./_submit.ts";
import { checkWorkerSetup } from "./_worker_setup.ts";
import { AsyncResult } from "./async_result.ts";
import type { MapProgress } from "./progress.ts";
import type { PoolStats } from "./stats.ts";

/** Options for {@linkcode Pool}. */
export interface PoolOptions {
  /**
   * Number of worker threads.
   * @default {cpuCount()}
   */
  processes?: number;
  /** Task each worker runs once, before any other task (Python's `initializer`). */
  initializer?: TaskRef;
  /**
   * Arguments for the initializer; shareable objects arrive live.
   * @default {[]}
   */
  initargs?: readonly unknown[];
  /**
   * Tasks (or map chunks) a worker runs before it is replaced by a fresh one.
   * @default {undefined} (workers live as long as the pool)
   */
  maxTasksPerChild?: number;
  /**
   * Workers the pool keeps however idle it is; it starts with these and starts more, up to
   * `processes`, while it holds more tasks than workers.
   * @default {processes} without `idleTimeout`, else 0
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
  /**
   * Milliseconds a running task may ignore its abort (a call's `signal` or `timeout`) before
   * its worker is stopped and replaced. A task that reads `currentTask().signal` and returns
   * or throws within this time keeps its worker. `0` stops the worker at once; `Infinity`
   * never does.
   * @default {1000}
   */
  abortGrace?: number;
}

/** Options of every pool call: a deadline and a signal, for the whole call. */
export interface PoolCallOptions {
  /**
   * Milliseconds the call may run, counted from when its first task starts running (time
   * spent waiting in the queue does not count; see `timeoutFrom`); then it rejects with a
   * `TimeoutError`. A task still queued is removed; a running one sees its
   * `currentTask().signal` fire and has the pool's `abortGrace` to end before its worker is
   * stopped and replaced.
   * @default {undefined} (no limit)
   */
  timeout?: number;
  /**
   * When `timeout` starts counting: `"start"`, when the call's first task starts running;
   * `"submit"`, at the call, so time in the queue counts too.
   * @default {"start"}
   */
  timeoutFrom?: "start" | "submit";
  /**
   * Aborting it rejects the call at once: with the signal's reason when one was given to
   * `abort(reason)`, else with a `CancelledError`. A queued task is removed; a running one
   * is aborted as on `timeout`.
   */
  signal?: AbortSignal;
}

/** Options for {@linkcode Pool.apply}: those of every call, and progress. */
export interface ApplyOptions extends PoolCallOptions {
  /**
   * Called with each value the task reports with `reportProgress()`, in order, all before
   * the call settles.
   */
  onProgress?: (value: unknown) => void;
}

/** Options for {@linkcode Pool.stream} and `ProcessPoolExecutor.stream`. */
export interface StreamOptions extends ApplyOptions {
  /**
   * Yields the worker may send ahead of the consumer; then the generator waits at its
   * next yield until the consumer takes more. `timeout` bounds the whole stream.
   * @default {16}
   */
  highWaterMark?: number;
}

/**
 * The values a stream task yields: `Y` for a task returning an `AsyncIterable<Y>` (an
 * `async function*`) or an `Iterable<Y>` (a `function*`).
 */
// deno-lint-ignore no-explicit-any
export type StreamItem<F extends (...args: any[]) => unknown> = Awaited<ReturnType<F>> extends AsyncIterable<infer Y>
  ? Y
  : Awaited<ReturnType<F>> extends Iterable<infer Y> ? Awaited<Y>
  : never;

/**
 * The arguments of {@linkcode Pool.apply} after the task: its argument list, which may be
 * left out when the task takes none (Python's `args=()`), then the options.
 */
// deno-lint-ignore no-explicit-any
export type ApplyArgs<F extends (...args: any[]) => unknown, O> = Parameters<F> extends [] ? [args?: [], options?: O]
  : [args: Parameters<F>, options?: O];

/** Options for {@linkcode Pool.applyAsync}. */
export interface ApplyAsyncOptions<T> extends ApplyOptions {
  /** Called with the value when the task succeeds. */
  callback?: (value: T) => void;
  /** Called with the error when the task fails. */
  errorCallback?: (error: unknown) => void;
}

/** Options for {@linkcode Pool.map} and {@linkcode Pool.starmap}. */
export interface PoolMapOptions extends PoolCallOptions {
  /**
   * Items sent to a worker as one task.
   * @default {Math.ceil(length / (4 * processes))}
   */
  chunksize?: number;
  /**
   * Called with `{ done, total }` each time a chunk's results arrive (so a CLI can draw a
   * progress bar), and with `{ done, total, index, value }` for each value a task reports
   * with `reportProgress()`; all before the call settles.
   */
  onProgress?: (progress: MapProgress) => void;
}

/** Options for {@linkcode Pool.mapAsync} and {@linkcode Pool.starmapAsync}. */
export interface MapAsyncOptions<T> extends PoolMapOptions {
  /** Called with all the values when every task succeeded. */
  callback?: (values: T[]) => void;
  /** Called with the first error when a task failed. */
  errorCallback?: (error: unknown) => void;
}

/** Options for {@linkcode Pool.imap} and {@linkcode Pool.imapUnordered}. */
export interface ImapOptions extends PoolCallOptions {
  /**
   * Items sent to a worker as one task.
   * @default {1}
   */
  chunksize?: number;
  /**
   * As for {@linkcode Pool.map}: `{ done, total }` as results arrive (a chunk at a time,
   * whether or not the consumer has taken them yet), where `total` is `undefined` until
   * the input has ended; and `{ done, total, index, value }` for each task's report.
   */
  onProgress?: (progress: MapProgress) => void;
  /**
   * Most input items held at once: read and not yet yielded to the consumer (queued,
   * running, or done and waiting). Bounds an imap's memory whatever the input's length;
   * rounded up to whole chunks.
   * @default {1024 * processes} (and at least two chunks per worker)
   */
  window?: number;
}

/**
 * Check a pool's `abortGrace`.
 *
 * @throws {RangeError} when it is not a non-negative number of milliseconds
 */
function checkAbortGrace(grace: number): void {
  if (typeof grace !== "number" || Number.isNaN(grace) || grace < 0) {
    throw new RangeError(
      `Cannot create a pool: abortGrace must be a non-negative number of milliseconds (or Infinity), got ${
        String(grace)
      }`,
    );
  }
}

function report(error: unknown): void {
  // A callback that throws is a bug in the program; surface it as one, not as a failed task.
  queueMicrotask(() => {
    throw error;
  });
}

function settleWith<T>(
  resolve: (value: T) => void,
  reject: (error: unknown) => void,
  callback?: (value: T) => void,
  errorCallback?: (error: unknown) => void,
): (failed: boolean, value: unknown) => void {
  return (failed, value) => {
    if (failed) reject(value);
    else resolve(value as T);
    try {
      if (failed) errorCallback?.(value);
      else callback?.(value as T);
    } catch (error) {
      report(error);
    }
  };
}

/**
 * A pool of worker threads running tasks, like Python's `multiprocessing.Pool`.
 *
 * Tasks are exported functions named by {@linkcode TaskRef}, so arguments and results are
 * type-checked. A task that throws rejects only its own result, with the worker's error
 * (its class when it is a built-in, else a `RemoteError`); a worker that dies mid-task
 * rejects that task with a `WorkerDiedError` and is replaced. Workers do not keep the
 * program alive while the pool is idle.
 *
 * @example Usage
 * ```ts
 * import { Pool, taskModule } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const tasks = taskModule<typeof import("./tests/testdata/pool_tasks.ts")>(
 *   new URL("./tests/testdata/pool_tasks.ts", import.meta.url),
 * );
 * await using pool = new Pool({ processes: 2 });
 * assert.equal(await pool.apply(tasks.fib, [10]), 55);
 * assert.deepEqual(await pool.map(tasks.square, [1, 2, 3]), [1, 4, 9]);
 * for await (const x of pool.imap(tasks.square, [4, 5])) assert.ok(x === 16 || x === 25);
 * ```
 */
export class Pool implements AsyncDisposable {
  readonly #processes: number;
  readonly #scheduler: Scheduler;

  /**
   * Start the workers.
   *
   * @throws {RangeError} when `processes` or `maxTasksPerChild` is not a positive integer, or
   * a sizing option (`minProcesses`, `idleTimeout`, `maxMemoryPerChild`, `maxQueue`) is out of range
   * @throws {TypeError} when `initializer` is not a task reference or `initargs` cannot be sent
   */
  constructor(options: PoolOptions = {}) {
    const { processes = runtime.cpuCount(), initializer, initargs = [], maxTasksPerChild, context, abortGrace = 1000 } =
      options;
    // Every other option (maxHeapMiB and the sizing ones) passes through as it was given.
    const checked = checkWorkerSetup(
      { ...options, count: processes, initializer, initargs, maxTasksPerChild, context },
      "a pool",
      "processes",
    );
    checkAbortGrace(abortGrace);
    this.#processes = processes;
    this.#scheduler = new Scheduler({
      processes,
      ...checked,
      maxTasksPerChild,
      workerName: "PoolWorker",
      owner: "pool",
      breakOnDeath: false,
      abortGrace,
    });
  }

  /** Number of workers the pool keeps running. */
  get processes(): number {
    return this.#processes;
  }

  /**
   * Run `fn(...args)` in a worker and return its value, like Python's `Pool.apply`.
   *
   * @param fn the task
   * @param args its arguments, checked against its parameters
   * @returns the task's value (awaited when it is a promise)
   * @throws {InvalidStateError} when the pool is closed
   * @throws {FullError} when `maxQueue` tasks are queued already
   * @throws {WorkerDiedError} when the worker died while running the task
   * @throws {TimeoutError} when `timeout` passed first
   */
  // deno-lint-ignore no-explicit-any
  apply<F extends (...args: any[]) => unknown>(
    fn: TaskRef<F>,
    ...[args, options = {}]: ApplyArgs<F, ApplyOptions>
  ): Promise<TaskResult<F>> {
    return new Promise((resolve, reject) => {
      this.#call(fn, args ?? [], options, settleWith(resolve, reject));
    });
  }

  /**
   * Start `fn(...args)` in a worker and return a handle on its result, like Python's
   * `Pool.apply_async`. An argument that cannot be sent to a worker rejects the result
   * with a `TypeError` naming it (as Python's `get()` raises the pickling error).
   *
   * @throws {InvalidStateError} when the pool is closed
   * @throws {FullError} when `maxQueue` tasks are queued already
   */
  // deno-lint-ignore no-explicit-any
  applyAsync<F extends (...args: any[]) => unknown>(
    fn: TaskRef<F>,
    ...[args, options = {}]: ApplyArgs<F, ApplyAsyncOptions<TaskResult<F>>>
  ): AsyncResult<TaskResult<F>> {
    this.#check(fn);
    this.#checkRoom(fn, args ?? []);
    const { callback, errorCallback } = options;
    return new AsyncResult((resolve, reject) => {
      this.#call(fn, args ?? [], options, settleWith(resolve, reject, callback, errorCallback));
    });
  }

  /**
   * Run `fn(item)` for every item and return the values in input order, like Python's
   * `Pool.map`. The input is read whole first; use {@linkcode Pool.imap} for long inputs.
   * The first failed task rejects the call; its queued chunks are dropped.
   *
   * @returns the values, in input order
   */
  // deno-lint-ignore no-explicit-any
  map<F extends (arg: any) => unknown>(
    fn: TaskRef<F>,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    options: PoolMapOptions = {},
  ): Promise<TaskResult<F>[]> {
    return this.#mapAsync<TaskResult<F>>(fn, false, iterable, options, "map").get();
  }

  /**
   * {@linkcode Pool.map} returning a handle on the result, like Python's `Pool.map_async`.
   *
   * @throws {InvalidStateError} when the pool is closed
   */
  // deno-lint-ignore no-explicit-any
  mapAsync<F extends (arg: any) => unknown>(
    fn: TaskRef<F>,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    options: MapAsyncOptions<TaskResult<F>> = {},
  ): AsyncResult<TaskResult<F>[]> {
    this.#check(fn);
    return this.#mapAsync(fn, false, iterable, options, "mapAsync");
  }

  /**
   * Run `fn(...args)` for every argument list, in input order, like Python's
   * `Pool.starmap`.
   *
   * @returns the values, in input order
   */
  // deno-lint-ignore no-explicit-any
  starmap<F extends (...args: any[]) => unknown>(
    fn: TaskRef<F>,
    iterable: Iterable<Parameters<F>> | AsyncIterable<Parameters<F>>,
    options: PoolMapOptions = {},
  ): Promise<TaskResult<F>[]> {
    return this.#mapAsync<TaskResult<F>>(fn, true, iterable, options, "starmap").get();
  }

  /**
   * {@linkcode Pool.starmap} returning a handle on the result, like Python's
   * `Pool.starmap_async`.
   *
   * @throws {InvalidStateError} when the pool is closed
   */
  // deno-lint-ignore no-explicit-any
  starmapAsync<F extends (...args: any[]) => unknown>(
    fn: TaskRef<F>,
    iterable: Iterable<Parameters<F>> | AsyncIterable<Parameters<F>>,
    options: MapAsyncOptions<TaskResult<F>> = {},
  ): AsyncResult<TaskResult<F>[]> {
    this.#check(fn);
    return this.#mapAsync(fn, true, iterable, options, "starmapAsync");
  }

  /**
   * Run `fn(item)` for every item, yielding values in input order as they are ready,
   * like Python's `Pool.imap`. The input (sync or async iterable) is read lazily: at most
   * `window` items ahead of the consumer (1024 per worker unless told), so memory stays flat
   * over an input of any length. A failed task throws from the iterator at its place in the
   * order.
   *
   * @throws {InvalidStateError} when the pool is closed
   * @throws {RangeError} when the chunksize, window or timeout is invalid
   */
  // deno-lint-ignore no-explicit-any
  imap<F extends (arg: any) => unknown>(
    fn: TaskRef<F>,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    options: ImapOptions = {},
  ): AsyncIterableIterator<TaskResult<F>> {
    return this.#imap(fn, false, true, iterable, options, "imap");
  }

  /**
   * {@linkcode Pool.imap} yielding values as soon as each is ready, in any order, like
   * Python's `Pool.imap_unordered`.
   *
   * @throws {InvalidStateError} when the pool is closed
   */
  // deno-lint-ignore no-explicit-any
  imapUnordered<F extends (arg: any) => unknown>(
    fn: TaskRef<F>,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    options: ImapOptions = {},
  ): AsyncIterableIterator<TaskResult<F>> {
    return this.#imap(fn, false, false, iterable, options, "imapUnordered");
  }

  /**
   * Counts, run and wait times and utilization of the pool's tasks so far (see
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
   * yield what it yields, in order, as it yields it. The worker runs nothing else until the
   * stream ends. A slow consumer holds the generator: at most `highWaterMark` values wait
   * for the consumer. Leaving the loop early (`break`) ends the generator (its `return`,
   * so its `finally` runs) and frees the worker. An error thrown in the generator ends the
   * iteration with that error; a worker that dies mid-stream ends it with a
   * `WorkerDiedError`; `timeout` and `signal` bound the whole stream. Until the loop ends
   * (or `return()` is called) the stream holds its worker, so always iterate it.
   *
   * @param fn a task that returns a generator
   * @param args its arguments
   * @returns an async iterator of the yields; its final result is the generator's return value
   * @throws {InvalidStateError} when the pool is closed
   * @throws {RangeError} when `highWaterMark` is not a positive integer
   *
   * @example Usage
   * ```ts
   * import { Pool, taskModule } from "@mproc/multiprocessing/pool";
   * import assert from "node:assert/strict";
   * const tasks = taskModule<typeof import("./tests/testdata/stream_tasks.ts")>(
   *   new URL("./tests/testdata/stream_tasks.ts", import.meta.url),
   * );
   * await using pool = new Pool({ processes: 1 });
   * const got: number[] = [];
   * for await (const n of pool.stream(tasks.count, [3])) got.push(n);
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
   * Take no more work; the workers exit once the pending work is done. Idempotent.
   */
  close(): void {
    this.#scheduler.close();
  }

  /**
   * Drop the tasks that have not started: each rejects with a `CancelledError` (for a map
   * call, the call rejects, its error's `index` naming the first dropped item). Running
   * tasks finish. With OS worker processes (the process context), the few tasks a worker
   * already holds in line still run.
   *
   * @returns how many tasks were dropped (a map chunk counts as one)
   *
   * @example Usage
   * ```ts
   * import { Pool, taskModule } from "@mproc/multiprocessing";
   * import assert from "node:assert/strict";
   * const tasks = taskModule<typeof import("./tests/testdata/pool_tasks.ts")>(
   *   new URL("./tests/testdata/pool_tasks.ts", import.meta.url),
   * );
   * await using pool = new Pool({ processes: 1 });
   * const late = pool.apply(tasks.square, [3]);
   * late.catch(() => {});
   * assert.ok(pool.cancelPending() <= 1);
   * ```
   */
  cancelPending(): number {
    return this.#scheduler.cancelPending((job) => {
      const error = new CancelledError(
        `Cannot run task "${job.name}": cancelPending() dropped it before it started${
          job.index === undefined ? "" : ` (item ${job.index})`
        }`,
      );
      if (job.index !== undefined) error.index = job.index;
      return error;
    });
  }

  /**
   * Stop every worker now. Pending work rejects with a `CancelledError`.
   *
   * @returns once every worker has exited
   */
  terminate(): Promise<void> {
    return this.#scheduler.terminate((name) =>
      new CancelledError(`Cannot finish task "${name}": the pool was terminated`)
    );
  }

  /**
   * Wait until every worker has exited, after {@linkcode Pool.close} or
   * {@linkcode Pool.terminate}.
   *
   * @throws {InvalidStateError} when the pool is still open
   */
  join(): Promise<void> {
    if (!this.#scheduler.closed) {
      return Promise.reject(new InvalidStateError("Cannot join the pool: call close() or terminate() first"));
    }
    return this.#scheduler.join();
  }

  /** `await using pool = new Pool()` terminates the pool at the end of the block, as Python's `with` does. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.terminate();
  }

  /** A short description, like Python's repr. */
  toString(): string {
    const state = this.#scheduler.broken !== null ? "BROKEN" : this.#scheduler.closed ? "CLOSE" : "RUN";
    return `<Pool state=${state} pool_size=${this.#processes}>`;
  }

  #check(fn: TaskRef): void {
    checkSubmit(this.#scheduler, fn, "the pool is closed");
  }

  #checkRoom(fn: TaskRef, args: readonly unknown[]): void {
    if (!this.#scheduler.full()) return;
    throw new FullError(
      `Cannot submit task "${fn.name}": the pool holds ${this.#scheduler.queued} unstarted tasks, its maxQueue; await pool.drained() before submitting more`,
      args,
    );
  }

  #call(
    fn: TaskRef,
    args: readonly unknown[],
    options: ApplyOptions,
    settle: (failed: boolean, value: unknown) => void,
  ): void {
    try {
      this.#check(fn);
      this.#checkRoom(fn, args);
      if (!Array.isArray(args)) {
        throw new TypeError(`Cannot run task "${fn.name}": args must be an array, got ${String(args)}`);
      }
      this.#scheduler.checkSendable(args, "args");
      const { onProgress } = options;
      if (onProgress !== undefined && typeof onProgress !== "function") {
        throw new TypeError(`Cannot run task "${fn.name}": onProgress must be a function, got ${String(onProgress)}`);
      }
      const payload = encodeArgs(args, "args");
      // Most calls have neither timeout nor signal: they skip the message string and wrapper.
      const call = asksForSignal(options) ? poolCallSignal(options, `run task "${fn.name}"`) : undefined;
      this.#scheduler.submit(
        fn,
        CALL,
        payload,
        call === undefined ? settle : (failed, value) => {
          call.dispose();
          settle(failed, value);
        },
        call,
        undefined,
        onProgress === undefined ? undefined : { onProgress: (value) => callProgress(onProgress, value) },
      );
    } catch (error) {
      settle(true, error);
    }
  }

  #mapAsync<T>(
    fn: TaskRef,
    spread: boolean,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options: MapAsyncOptions<T>,
    method: string,
  ): AsyncResult<T[]> {
    const { callback, errorCallback } = options;
    return new AsyncResult<T[]>((resolve, reject) => {
      const settle = settleWith(resolve, reject, callback, errorCallback);
      this.#runMap(fn, spread, iterable, options, method).then(
        (values) => settle(false, values),
        (error) => settle(true, error),
      );
    });
  }

  async #runMap(
    fn: TaskRef,
    spread: boolean,
    iterable: MapInput,
    options: PoolMapOptions,
    method: string,
  ): Promise<unknown[]> {
    const what = mapWhat(method, fn);
    this.#check(fn);
    checkMapOptions(options, what);
    const items = await readInput(iterable, what);
    const progress = mapProgress(options.onProgress, items.length, what);
    const call = poolCallSignal(options, what);
    const scheduler = this.#scheduler;
    const jobs: Job[] = [];
    try {
      if (items.length === 0) return [];
      const chunksize = options.chunksize ?? defaultChunksize(items.length, this.#processes);
      const mode = mapMode(chunksize, spread);
      scheduler.checkSendableItems(items, 0);
      const payloads = encodeMapJobs(items, chunksize, spread, what);
      const out = new Array(items.length);
      return await new Promise<unknown[]>((resolve, reject) => {
        let left = payloads.length;
        let failed = false;
        const fail = (error: unknown) => {
          if (failed) return;
          failed = true;
          reject(error);
          for (const job of jobs) scheduler.cancel(job, error);
        };
        // One function settles every job of the map: each finds its place by its index.
        const settle = (bad: boolean, value: unknown, job: Job) => {
          if (bad) return fail(value);
          const start = job.index!;
          if (chunksize === 1) out[start] = value;
          else {
            const values = value as unknown[];
            for (let j = 0; j < values.length; j++) out[start + j] = values[j];
          }
          if (progress !== undefined && !failed) progress.add(chunksize === 1 ? 1 : (value as unknown[]).length);
          if (--left === 0) resolve(out);
        };
        const hooks = progress?.hooks();
        for (let k = 0; k < payloads.length; k++) {
          jobs.push(scheduler.submit(fn, mode, payloads[k], settle, call, k * chunksize, hooks));
        }
      });
    } finally {
      call?.dispose();
    }
  }

  #imap<T>(
    fn: TaskRef,
    spread: boolean,
    ordered: boolean,
    iterable: MapInput,
    options: ImapOptions,
    method: string,
  ): AsyncIterableIterator<T> {
    const what = mapWhat(method, fn);
    this.#check(fn);
    checkMapOptions(options, what);
    // An array's length is known at once; a generator's only once it ends.
    const progress = mapProgress(options.onProgress, Array.isArray(iterable) ? iterable.length : undefined, what);
    const chunksize = options.chunksize ?? 1;
    const ahead = imapAhead(options.window, chunksize, this.#processes, what);
    const input = openInput(iterable, what);
    // Last, so nothing that throws above leaves its timer or signal listener behind.
    const call = poolCallSignal(options, what);
    return new Imap<T>({
      scheduler: this.#scheduler,
      ref: fn,
      spread,
      input,
      chunksize,
      ordered,
      ahead,
      call,
      what,
      progress,
    });
  }
}

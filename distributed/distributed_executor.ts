import { Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { callSignal } from "../_internal/call_signal.ts";
import { checkTimeout } from "../_internal/deadline.ts";
import { valuesInOrder } from "../_internal/in_order.ts";
import { checkMapOptions, checkStarItem, type MapInput, mapWhat, readInput } from "../_internal/map_input.ts";
import { cwd } from "../_runtime/host.ts";
import { BrokenProcessPoolError, InvalidStateError, JobFailedError } from "../errors.ts";
import type { ExecutorMapOptions, ShutdownOptions } from "../pool/executor.ts";
import { Future } from "../pool/future.ts";
import { isTaskRef, type TaskRef, type TaskResult } from "../task.ts";
import { checkConnection, closeClient, redisClient, type RedisConnection } from "./_connection.ts";
import { type JobData, type JobMode, jobModule, type JobOutcome, rootUrl } from "./_protocol.ts";
import { fromWire, toWire } from "./_wire.ts";

/** Options for {@linkcode DistributedExecutor}. */
export interface DistributedExecutorOptions {
  /** The Redis server that holds the queue. */
  connection: RedisConnection;
  /** The BullMQ queue's name; workers serve the same name. */
  queue: string;
  /**
   * The project folder (path or `file:` URL). A task's module travels as its path under
   * this folder, and each worker finds it under its own root.
   * @default {the working directory}
   */
  root?: string | URL;
  /**
   * Milliseconds to reach Redis at the start; then the executor is broken: its futures
   * fail with `BrokenProcessPoolError` and new submissions are refused. Once connected, a
   * lost connection is retried for as long as it takes.
   * @default {10000}
   */
  connectTimeout?: number;
}

/** Options for {@linkcode DistributedExecutor.submitWith}. */
export interface DistributedSubmitOptions {
  /**
   * Milliseconds until the future fails with `TimeoutError`; a job still queued is then
   * removed from the queue.
   * @default {undefined} (no limit)
   */
  timeout?: number;
  /** Fails the future with the signal's reason; a job still queued is removed. */
  signal?: AbortSignal;
}

/** Options for {@linkcode DistributedExecutor.map} and {@linkcode DistributedExecutor.starmap}. */
export interface DistributedMapOptions extends ExecutorMapOptions {
  /** Fails every unfinished result with the signal's reason; queued jobs are removed. */
  signal?: AbortSignal;
}

/** One submitted job the executor still waits for. */
interface Entry {
  readonly future: Future<unknown>;
  readonly task: string;
  /** A worker has taken the job. */
  active: boolean;
  /** Releases the call's timer and signal listener. */
  dispose?: () => void;
}

// addBulk sends its jobs in one MULTI; past a few thousand a call it only adds latency.
const BULK = 2000;
// The events stream is trimmed to about this many entries; results travel in it, so it
// must hold more than a busy executor can fall behind by.
const EVENTS_MAX_LEN = 100_000;

/**
 * The Executor API on a BullMQ queue in Redis: tasks run on whichever machines run
 * {@linkcode runWorker} on the same queue. Futures are the pool's {@linkcode Future}, so
 * `asCompleted` and `wait` work on them.
 *
 * Arguments and results travel as tagged JSON: JSON's values plus `undefined`, bigint,
 * NaN/±Infinity/-0, Date, RegExp, Map, Set, ArrayBuffer, typed arrays, DataView and
 * errors, with shared references and cycles kept. Functions, symbols, class instances,
 * SharedArrayBuffers, locks, shared values and manager proxies cannot leave the machine:
 * `submit` throws a `TypeError` naming the argument.
 *
 * A task's error fails its future as itself: built-in and this package's classes are
 * rebuilt, any other class arrives as a `RemoteError` with the remote `remoteName`,
 * `remoteStack` and `cause`. A worker that dies holding a job loses nothing: BullMQ's
 * stalled-job check gives the job to another worker.
 *
 * @example Usage
 * ```ts ignore
 * import { DistributedExecutor } from "@mproc/multiprocessing/distributed";
 * import { taskModule } from "@mproc/multiprocessing";
 * const tasks = taskModule<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url));
 * await using executor = new DistributedExecutor({
 *   connection: { host: "127.0.0.1", port: 6379 },
 *   queue: "fib",
 *   root: new URL(".", import.meta.url),
 * });
 * console.log(await executor.submit(tasks.fib, 30));
 * for await (const x of executor.map(tasks.square, [1, 2, 3], { chunksize: 2 })) console.log(x);
 * ```
 */
export class DistributedExecutor implements AsyncDisposable {
  readonly #root: URL;
  readonly #queueName: string;
  readonly #queueClient: Redis;
  readonly #eventsClient: Redis;
  readonly #queue: Queue;
  #events: QueueEvents | null = null;
  readonly #ready: Promise<void>;
  readonly #jobs = new Map<string, Entry>();
  readonly #prefix = crypto.randomUUID();
  #next = 0;
  #batch: { id: string; data: JobData }[] = [];
  #flushing: Promise<void> = Promise.resolve();
  readonly #removals = new Set<Promise<unknown>>();
  #shutdown = false;
  #broken: Error | null = null;
  #closed: Promise<void> | null = null;

  /**
   * Connect to Redis and open the queue.
   *
   * @throws {TypeError} when the connection, the queue name or the root is invalid
   * @throws {RangeError} when `connectTimeout` is negative
   */
  constructor(options: DistributedExecutorOptions) {
    const { connection, queue, root = cwd(), connectTimeout = 10_000 } = options ?? {};
    const what = "create a distributed executor";
    checkConnection(connection, what);
    checkTimeout(connectTimeout, what);
    if (typeof queue !== "string" || queue === "" || queue.includes(":")) {
      throw new TypeError(`Cannot ${what}: the queue must be a non-empty name without ":", got ${String(queue)}`);
    }
    this.#root = rootUrl(root, cwd(), what);
    this.#queueName = queue;
    this.#queueClient = redisClient(connection);
    this.#eventsClient = redisClient(connection);
    this.#queue = new Queue(queue, {
      connection: this.#queueClient,
      streams: { events: { maxLen: EVENTS_MAX_LEN } },
      defaultJobOptions: { removeOnComplete: true, removeOnFail: { age: 24 * 3600 } },
    });
    this.#queue.on("error", () => {});
    this.#ready = this.#open(connection, connectTimeout);
    this.#ready.catch((error) => this.#break(error));
  }

  /** The queue's name. */
  get queue(): string {
    return this.#queueName;
  }

  /** The root that modules are named under, as a `file:` URL. */
  get root(): string {
    return this.#root.href;
  }

  /**
   * Queue `fn(...args)` and return its future.
   *
   * @throws {InvalidStateError} after `shutdown()`
   * @throws {BrokenProcessPoolError} when Redis could not be reached
   * @throws {TypeError} when `fn` is not a task reference under the root, or an argument
   *   cannot be sent to another machine
   */
  // deno-lint-ignore no-explicit-any
  submit<F extends (...args: any[]) => unknown>(fn: TaskRef<F>, ...args: Parameters<F>): Future<TaskResult<F>> {
    return this.submitWith(fn, args);
  }

  /**
   * Queue `fn(...args)` with a timeout or a signal, and return its future.
   *
   * @throws {InvalidStateError} after `shutdown()`
   * @throws {RangeError} when the timeout is invalid
   * @throws {TypeError} when `fn` is not a task reference under the root, or an argument
   *   cannot be sent to another machine
   * @throws the signal's reason when it has already fired
   */
  // deno-lint-ignore no-explicit-any
  submitWith<F extends (...args: any[]) => unknown>(
    fn: TaskRef<F>,
    args: Parameters<F>,
    options: DistributedSubmitOptions = {},
  ): Future<TaskResult<F>> {
    const module = this.#check(fn);
    if (!Array.isArray(args)) {
      throw new TypeError(`Cannot submit task "${fn.name}": the arguments must be an array, got ${String(args)}`);
    }
    const what = `run task "${fn.name}"`;
    const data: JobData = { module, name: fn.name, mode: "call", args: toWire(args, "args") };
    const call = callSignal(options.timeout, options.signal, what);
    const id = this.#add(data);
    const entry = this.#jobs.get(id)!;
    if (call !== undefined) {
      entry.dispose = call.dispose;
      call.signal.addEventListener("abort", () => this.#abort(id, call.signal.reason), { once: true });
    }
    return entry.future as Future<TaskResult<F>>;
  }

  /**
   * Run `fn(item)` for every item; yield the values in input order. Every job is queued
   * at the call (in bulk); leaving the loop early cancels the jobs not yet taken.
   *
   * @throws {InvalidStateError} after `shutdown()`
   * @throws {TimeoutError} from the iterator when a value is not ready within `timeout` of the call
   */
  // deno-lint-ignore no-explicit-any
  map<F extends (arg: any) => unknown>(
    fn: TaskRef<F>,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    options: DistributedMapOptions = {},
  ): AsyncIterableIterator<TaskResult<F>> {
    return this.#map(fn, false, iterable, options, "map") as AsyncIterableIterator<TaskResult<F>>;
  }

  /**
   * Run `fn(...args)` for every argument list; yield the values in input order.
   *
   * @throws {InvalidStateError} after `shutdown()`
   */
  // deno-lint-ignore no-explicit-any
  starmap<F extends (...args: any[]) => unknown>(
    fn: TaskRef<F>,
    iterable: Iterable<Parameters<F>> | AsyncIterable<Parameters<F>>,
    options: DistributedMapOptions = {},
  ): AsyncIterableIterator<TaskResult<F>> {
    return this.#map(fn, true, iterable, options, "starmap") as AsyncIterableIterator<TaskResult<F>>;
  }

  /**
   * Take no new work; with `cancelFutures`, cancel the futures whose jobs no worker has
   * taken and remove those jobs from the queue; with `wait`, resolve once the other
   * futures are done and the connections closed. Idempotent.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = options;
    this.#shutdown = true;
    if (cancelFutures) { for (const entry of [...this.#jobs.values()]) entry.future.cancel(); }
    await this.#flushing;
    await Promise.allSettled(this.#removals);
    this.#closed ??= this.#close();
    if (wait) await this.#closed;
  }

  /** `await using` shuts the executor down and waits, as Python's `with` does. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }

  async #open(connection: RedisConnection, connectTimeout: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const where = "path" in connection
          ? connection.path
          : `${connection.host ?? "127.0.0.1"}:${connection.port ?? 6379}`;
        reject(new BrokenProcessPoolError(`Cannot reach Redis at ${where}: no connection within ${connectTimeout} ms`));
      }, connectTimeout);
    });
    try {
      await Promise.race([this.#queue.waitUntilReady(), late]);
    } finally {
      clearTimeout(timer);
    }
    // Results arrive on the queue's events stream. Reading from its current end, found
    // before the first job is added, means no event of ours can slip past.
    const last = await this.#queueClient.xrevrange(this.#queue.keys.events, "+", "-", "COUNT", 1);
    const events = new QueueEvents(this.#queueName, {
      connection: this.#eventsClient,
      lastEventId: last[0]?.[0] ?? "0-0",
    });
    events.on("error", () => {});
    events.on("active", ({ jobId }) => {
      const entry = this.#jobs.get(jobId);
      if (entry !== undefined) entry.active = true;
    });
    events.on("completed", ({ jobId, returnvalue }) => this.#settle(jobId, returnvalue as unknown as JobOutcome));
    events.on("failed", ({ jobId, failedReason }) => {
      const entry = this.#jobs.get(jobId);
      if (entry === undefined) return;
      this.#fail(
        jobId,
        new JobFailedError(`Cannot run task "${entry.task}": the queue failed it: ${failedReason}`, jobId),
      );
    });
    events.on("removed", ({ jobId }) => {
      const entry = this.#jobs.get(jobId);
      if (entry === undefined) return;
      this.#fail(
        jobId,
        new JobFailedError(
          `Cannot run task "${entry.task}": its job was removed from the queue by another client`,
          jobId,
        ),
      );
    });
    this.#events = events;
    await events.waitUntilReady();
  }

  /** Fail every pending future and refuse new work: Redis could not be reached. */
  #break(error: unknown): void {
    this.#broken = error as Error;
    for (const id of [...this.#jobs.keys()]) this.#fail(id, error);
  }

  #check(fn: unknown): string {
    if (!isTaskRef(fn)) {
      throw new TypeError(`Cannot submit a task: expected a task reference (see taskModule), got ${String(fn)}`);
    }
    if (this.#shutdown) throw new InvalidStateError(`Cannot submit task "${fn.name}": the executor was shut down`);
    const broken = this.#broken;
    if (broken !== null) {
      throw new BrokenProcessPoolError(`Cannot submit task "${fn.name}": ${broken.message}`, { cause: broken });
    }
    return jobModule(fn.module, this.#root, fn.name);
  }

  /** Queue a job (in the next batch); returns its id. */
  #add(data: JobData): string {
    // BullMQ refuses ":" in custom ids; a UUID prefix keeps ours apart from other clients'.
    const id = `${this.#prefix}-${this.#next++}`;
    const future = new Future<unknown>({
      cancel: () => this.#withdraw(id),
      running: () => this.#jobs.get(id)?.active === true,
    });
    const entry: Entry = { future, task: data.name, active: false };
    this.#jobs.set(id, entry);
    if (this.#batch.length === 0) {
      this.#flushing = this.#flushing.then(() => this.#flush());
    }
    this.#batch.push({ id, data });
    return id;
  }

  /** Fail a job's future with `reason`, withdrawing the job if no worker took it. */
  #abort(id: string, reason: unknown): void {
    const entry = this.#jobs.get(id);
    if (entry === undefined) return;
    if (!entry.active) this.#withdraw(id);
    entry.dispose?.();
    if (!entry.future.done()) entry.future.setException(reason);
  }

  async #flush(): Promise<void> {
    try {
      await this.#ready;
    } catch (error) {
      for (const { id } of this.#take()) this.#fail(id, error);
      return;
    }
    for (let jobs = this.#take(); jobs.length > 0; jobs = this.#take()) {
      for (let i = 0; i < jobs.length; i += BULK) {
        const slice = jobs.slice(i, i + BULK);
        try {
          await this.#queue.addBulk(slice.map(({ id, data }) => ({ name: data.name, data, opts: { jobId: id } })));
        } catch (error) {
          for (const { id } of slice) this.#fail(id, error);
        }
      }
    }
  }

  /** The batch, less the jobs withdrawn before it was sent. */
  #take(): { id: string; data: JobData }[] {
    const batch = this.#batch;
    this.#batch = [];
    return batch.filter(({ id }) => this.#jobs.has(id));
  }

  /** Withdraw a job no worker has taken; true when the future may be cancelled. */
  #withdraw(id: string): boolean {
    const entry = this.#jobs.get(id);
    if (entry === undefined || entry.active) return false;
    this.#jobs.delete(id);
    entry.dispose?.();
    // A job still in the batch is dropped when the batch is sent; one in the queue is
    // removed there. Should a worker have taken it meanwhile, Redis keeps it (it is
    // locked) and its result, no longer awaited, is dropped.
    const removal = this.#flushing.then(() => this.#queue.remove(id)).catch(() => 0);
    this.#removals.add(removal);
    removal.finally(() => this.#removals.delete(removal));
    return true;
  }

  #settle(id: string, outcome: JobOutcome): void {
    const entry = this.#jobs.get(id);
    if (entry === undefined) return;
    this.#jobs.delete(id);
    entry.dispose?.();
    if (entry.future.done()) return;
    try {
      if (outcome.ok) entry.future.setResult(fromWire(outcome.value));
      else entry.future.setException(fromWire(outcome.error));
    } catch (error) {
      if (!entry.future.done()) entry.future.setException(error);
    }
  }

  #fail(id: string, error: unknown): void {
    const entry = this.#jobs.get(id);
    this.#jobs.delete(id);
    entry?.dispose?.();
    if (entry !== undefined && !entry.future.done()) entry.future.setException(error);
  }

  #map(
    fn: TaskRef,
    spread: boolean,
    iterable: MapInput,
    options: DistributedMapOptions,
    method: string,
  ): AsyncIterableIterator<unknown> {
    const { timeout, chunksize = 1, signal } = options;
    const what = mapWhat(method, fn);
    const module = this.#check(fn);
    checkMapOptions(options, what);
    if (signal?.aborted) throw signal.reason;
    const mode: JobMode = chunksize === 1 ? "call" : spread ? "starmap" : "map";
    const submitAll = (items: unknown[]): Future<unknown>[] => {
      this.#check(fn);
      // Every item is encoded before the first job is queued: a bad item fails the call
      // with nothing sent.
      const jobs: JobData[] = [];
      for (let start = 0; start < items.length; start += chunksize) {
        const chunk = items.slice(start, start + chunksize);
        if (spread) { for (let j = 0; j < chunk.length; j++) checkStarItem(chunk[j], start + j, what); }
        const args = chunksize === 1 && spread
          ? toWire(chunk[0], `iterable[${start}]`)
          : toWire(chunk, "iterable", start);
        jobs.push({ module, name: fn.name, mode, args });
      }
      const ids = jobs.map((data) => this.#add(data));
      const futures = ids.map((id) => this.#jobs.get(id)!.future);
      if (signal !== undefined) {
        // One listener for the whole map, not one per job.
        const onAbort = () => {
          for (const id of ids) this.#abort(id, signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        void Promise.allSettled(futures).then(() => signal.removeEventListener("abort", onAbort));
      }
      return futures;
    };
    const items = readInput(iterable, what);
    const submitted = Array.isArray(items) ? Promise.resolve(submitAll(items)) : items.then(submitAll);
    submitted.catch(() => {});
    return valuesInOrder(submitted, chunksize, timeout, what);
  }

  async #close(): Promise<void> {
    await Promise.allSettled([...this.#jobs.values()].map(({ future }) => future.then(undefined, () => {})));
    try {
      await this.#ready;
    } catch {
      // Never connected: BullMQ's close would wait for the connection; drop it instead.
      this.#queueClient.disconnect();
      this.#eventsClient.disconnect();
      return;
    }
    await this.#events?.close();
    await this.#queue.close();
    await Promise.all([closeClient(this.#queueClient), closeClient(this.#eventsClient)]);
  }
}

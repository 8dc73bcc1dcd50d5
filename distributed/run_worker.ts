import { type Job, Worker } from "bullmq";
import { errorToRecord } from "../_internal/error_record.ts";
import { cwd, fileExists } from "../_runtime/host.ts";
import { runtime } from "../_runtime/mod.ts";
import { Pool } from "../pool/pool.ts";
import type { TaskRef } from "../task.ts";
import { checkConnection, closeClient, redisClient, type RedisConnection } from "./_connection.ts";
import { type JobData, type JobOutcome, rootUrl, workerModule } from "./_protocol.ts";
import { fromWire, toWire, type Wire } from "./_wire.ts";

/** Options for {@linkcode runWorker}. */
export interface RunWorkerOptions {
  /** The Redis server that holds the queue. */
  connection: RedisConnection;
  /** The queue to serve. */
  queue: string;
  /**
   * Tasks run at once, each in a thread of a local pool.
   * @default {cpuCount()}
   */
  concurrency?: number;
  /**
   * The project folder (path or `file:` URL) that jobs name their modules under.
   * @default {the working directory}
   */
  root?: string | URL;
  /**
   * Milliseconds a taken job stays locked to this worker without renewal; a worker that
   * dies holding jobs gives them up after this long. Renewed every half of it.
   * @default {30000}
   */
  lockDuration?: number;
  /**
   * Milliseconds between this worker's checks for jobs whose holder died.
   * @default {30000}
   */
  stalledInterval?: number;
  /**
   * How often a job may lose its worker before it fails with `JobFailedError`.
   * @default {1}
   */
  maxStalledCount?: number;
  /** Called with connection errors; ioredis keeps reconnecting meanwhile. */
  onError?: (error: Error) => void;
}

/** A running worker, from {@linkcode runWorker}. */
export interface DistributedWorker extends AsyncDisposable {
  /** Tasks it runs at once. */
  readonly concurrency: number;
  /** The root it finds modules under, as a `file:` URL. */
  readonly root: string;
  /** Take no more jobs, finish those taken, then close the pool and the connections. Idempotent. */
  close(): Promise<void>;
}

function checkMs(value: unknown, name: string, what: string): void {
  if (value !== undefined && (typeof value !== "number" || !Number.isInteger(value) || value < 1)) {
    throw new RangeError(`Cannot ${what}: ${name} must be a positive integer of milliseconds, got ${String(value)}`);
  }
}

// An error whose fields will not go as tagged JSON still goes with its class, message,
// stack and cause.
function errorOutcome(error: unknown): JobOutcome {
  try {
    return { ok: false, error: toWire(error, "the error") };
  } catch {
    const record = errorToRecord(error);
    delete record.fields;
    return { ok: false, error: ["e", toWire(record, "the error")] as Wire };
  }
}

/**
 * Serve a {@linkcode DistributedExecutor}'s queue on this machine: take jobs from Redis
 * and run them in a local {@linkcode Pool} of `concurrency` threads. Any number of
 * machines may serve one queue; a job whose worker dies is run again by another.
 *
 * Each job names its module by its path under the client's root; this worker imports
 * that path under its own `root`. A job naming a module not found there fails with an
 * error saying so.
 *
 * @returns the worker, once it is connected and taking jobs
 * @throws {TypeError} when the connection, queue or root is invalid
 * @throws {RangeError} when `concurrency` or a duration is not a positive integer
 *
 * @example Usage
 * ```ts ignore
 * import { runWorker } from "@mproc/multiprocessing/distributed";
 * await using worker = await runWorker({
 *   connection: { host: "127.0.0.1", port: 6379 },
 *   queue: "fib",
 *   concurrency: 4,
 *   root: new URL(".", import.meta.url),
 * });
 * ```
 */
export async function runWorker(options: RunWorkerOptions): Promise<DistributedWorker> {
  const {
    connection,
    queue,
    concurrency = runtime.cpuCount(),
    root = cwd(),
    lockDuration,
    stalledInterval,
    maxStalledCount,
    onError,
  } = options ?? {};
  const what = "run a distributed worker";
  checkConnection(connection, what);
  if (typeof queue !== "string" || queue === "" || queue.includes(":")) {
    throw new TypeError(`Cannot ${what}: the queue must be a non-empty name without ":", got ${String(queue)}`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`Cannot ${what}: concurrency must be a positive integer, got ${String(concurrency)}`);
  }
  checkMs(lockDuration, "lockDuration", what);
  checkMs(stalledInterval, "stalledInterval", what);
  if (maxStalledCount !== undefined && (!Number.isInteger(maxStalledCount) || maxStalledCount < 0)) {
    throw new RangeError(`Cannot ${what}: maxStalledCount must be a non-negative integer, got ${maxStalledCount}`);
  }
  const rootDir = rootUrl(root, cwd(), what);
  const pool = new Pool({ processes: concurrency });

  const run = async (job: Job<JobData, JobOutcome>): Promise<JobOutcome> => {
    const { module, name, mode, args } = job.data;
    try {
      const url = workerModule(module, rootDir, name);
      if (url.startsWith("file:") && !fileExists(url)) {
        throw new Error(`Cannot run task "${name}": its module "${module}" was not found under ${rootDir.href}`);
      }
      const ref: TaskRef = { module: url, name };
      const input = fromWire(args) as unknown[];
      const value = mode === "call"
        ? await pool.apply(ref, input)
        : mode === "map"
        ? await pool.map(ref, input)
        : await pool.starmap(ref, input as unknown[][]);
      return { ok: true, value: toWire(value, `the result of task "${name}"`) };
    } catch (error) {
      return errorOutcome(error);
    }
  };

  const client = redisClient(connection);
  const worker = new Worker<JobData, JobOutcome>(queue, run, {
    connection: client,
    // Four jobs a thread: the next jobs are fetched while one runs, so a thread rarely
    // waits on a round trip to Redis.
    concurrency: concurrency * 4,
    // BullMQ takes an undefined field for a value, not for its default.
    ...(lockDuration === undefined ? {} : { lockDuration }),
    ...(stalledInterval === undefined ? {} : { stalledInterval }),
    ...(maxStalledCount === undefined ? {} : { maxStalledCount }),
    autorun: true,
  });
  worker.on("error", (error) => onError?.(error));
  try {
    await worker.waitUntilReady();
  } catch (error) {
    await Promise.allSettled([worker.close(true), pool.terminate(), closeClient(client)]);
    throw error;
  }
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    closing ??= (async () => {
      await worker.close();
      pool.close();
      await pool.join();
      await closeClient(client);
    })();
  return {
    concurrency,
    root: rootDir.href,
    close,
    [Symbol.asyncDispose]: close,
  };
}

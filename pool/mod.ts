/**
 * Pools of worker threads, like Python's `multiprocessing.Pool` and
 * `concurrent.futures.ProcessPoolExecutor`. Tasks are exported functions named by a typed
 * {@linkcode TaskRef}, so `pool.apply(tasks.fib, [30])` is a `Promise<number>` and a wrong
 * argument is a compile error.
 *
 * Small tasks are cheap: tasks queued in the same tick travel to a worker in one message,
 * each worker holds a few milliseconds of work so it never waits for the parent, and
 * results come back in batches. A task that throws rejects only its own result; a worker
 * that dies mid-task rejects that task with a `WorkerDiedError` and is replaced.
 *
 * @example Usage
 * ```ts
 * import { Pool, taskModule } from "@mproc/multiprocessing/pool";
 * import assert from "node:assert/strict";
 * const tasks = taskModule<typeof import("./tests/testdata/pool_tasks.ts")>(
 *   new URL("./tests/testdata/pool_tasks.ts", import.meta.url),
 * );
 * await using pool = new Pool({ processes: 2 });
 * assert.equal(await pool.apply(tasks.fib, [20]), 6765);
 * assert.deepEqual(await pool.map(tasks.square, [1, 2, 3]), [1, 4, 9]);
 * ```
 *
 * @module
 */
export * from "../task.ts";
export * from "./async_result.ts";
export * from "./current_task.ts";
export * from "./executor.ts";
export * from "./future.ts";
export * from "./pool.ts";
export * from "./progress.ts";
export * from "./stats.ts";

/**
 * The Executor API beyond one machine, on BullMQ and Redis: a
 * {@linkcode DistributedExecutor} queues tasks in Redis, and {@linkcode runWorker} (or
 * the `mproc worker` command line) runs them on any machine with the project, in a local
 * thread pool. Jobs survive a worker's death: BullMQ's stalled-job check hands them to
 * another worker. This entry is the only code that loads BullMQ.
 *
 * @example Usage
 * ```ts ignore
 * // On each worker machine: npx mproc worker --redis 10.0.0.5:6379 --queue work --concurrency 8
 * import { DistributedExecutor } from "@mproc/multiprocessing/distributed";
 * import { taskModule } from "@mproc/multiprocessing";
 * const tasks = taskModule<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url));
 * await using executor = new DistributedExecutor({
 *   connection: { host: "10.0.0.5", port: 6379 },
 *   queue: "work",
 *   root: new URL(".", import.meta.url),
 * });
 * for await (const x of executor.map(tasks.fib, [20, 21, 22])) console.log(x);
 * ```
 *
 * @module
 */
export * from "../pool/future.ts";
export type { RedisConnection } from "./_connection.ts";
export * from "./distributed_executor.ts";
export * from "./run_worker.ts";

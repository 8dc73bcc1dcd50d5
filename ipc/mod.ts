/**
 * Queues, pipes and managers between threads, like Python's `multiprocessing.Queue`,
 * `SimpleQueue`, `JoinableQueue`, `Pipe`, `connection.wait` and `multiprocessing.managers`.
 * Queue and pipe items travel through rings of bytes in shared memory, not through
 * messages: any number of producers and consumers on any threads, each call with an async
 * form for any thread and a `Sync` twin for threads that may block. Pass a queue or a
 * connection in `Process` args and the child uses the same one; `wait()` watches several
 * at once. A {@linkcode Manager} serves dicts, lists, queues and locks that every thread,
 * process or machine reaches through proxies.
 *
 * @example Usage
 * ```ts
 * import { Manager, Queue } from "@mproc/multiprocessing/ipc";
 * import assert from "node:assert/strict";
 * const q = new Queue<string>();
 * await q.put("hello");
 * assert.equal(await q.get(), "hello");
 * await using manager = await Manager.start();
 * const d = await manager.dict<string, number>();
 * await d.set("x", 1);
 * assert.equal(await d.get("x"), 1);
 * ```
 *
 * @module
 */
export * from "./connection.ts";
export * from "./joinable_queue.ts";
export * from "./manager.ts";
export * from "./pipe.ts";
export * from "./process_connection.ts";
export * from "./process_queue.ts";
export * from "./queue.ts";
export * from "./simple_queue.ts";
export * from "./wait.ts";

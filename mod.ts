/**
 * Python's `multiprocessing` for Deno, Bun and Node: processes on worker threads, pools,
 * queues and pipes, shared memory, and Atomics-based locks, with one API on every runtime.
 *
 * A task is an exported function named by module URL and export name, because workers load
 * modules, not closures:
 *
 * ```ts
 * import { Process, taskModule } from "@mproc/multiprocessing";
 * const tasks = taskModule<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url));
 * const p = new Process({ target: tasks.work, args: [21], name: "w1" });
 * p.start();
 * await p.join();
 * console.log(p.exitCode); // 0
 * ```
 *
 * @module
 */
export * from "./context.ts";
export * from "./errors.ts";
export * from "./ipc/mod.ts";
export * from "./pool/mod.ts";
export * from "./process/mod.ts";
export * from "./shareable.ts";
export * from "./shm/mod.ts";
export * from "./sync/mod.ts";
// Python has both `concurrent.futures.wait` and `multiprocessing.connection.wait`; the
// root keeps the futures' one, the ipc entry and `connectionWait` give the other.
export { wait, type WaitOptions } from "./pool/mod.ts";

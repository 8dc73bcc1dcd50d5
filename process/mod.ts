/**
 * Processes: a function running in its own worker thread or, with the `"process"` start
 * method, in an OS child process, like Python's `multiprocessing.Process`; the start
 * method defaults; and functions about the current process tree.
 *
 * @example Usage
 * ```ts
 * import { Process, taskModule } from "@mproc/multiprocessing/process";
 * const tasks = taskModule<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url));
 * const p = new Process({ target: tasks.work, args: [21] });
 * p.start();
 * await p.join();
 * ```
 *
 * @module
 */
export * from "../task.ts";
export * from "./current.ts";
export * from "./process.ts";
export * from "./reserve.ts";
export * from "./start_method.ts";

/**
 * Processes: a function running in its own worker thread, like Python's
 * `multiprocessing.Process`, and functions about the current process tree.
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

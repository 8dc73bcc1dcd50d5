import { InvalidStateError } from "../errors.ts";
import { activeTask } from "./_task_context.ts";

/**
 * What a map-like call (`map`, `starmap`, `imap`, `imapUnordered`, the executor's `map`)
 * passes to its `onProgress` option: a count as results arrive (once per chunk), and each
 * value a task reports with {@linkcode reportProgress}, with the item that reported it.
 *
 * @example Usage
 * ```ts
 * import type { MapProgress } from "@mproc/multiprocessing/pool";
 * const bar = (p: MapProgress) => `${p.done}/${p.total ?? "?"}`;
 * console.log(bar({ done: 3, total: 10 }));
 * ```
 */
export interface MapProgress {
  /** Items whose results have arrived, counted a chunk at a time. */
  readonly done: number;
  /**
   * Items in the input; `undefined` while `imap` or `imapUnordered` is still reading a
   * lazy input (a generator), then the count once the input has ended.
   */
  readonly total: number | undefined;
  /** Present when a task reported `value`: the input index of the item it was running. */
  readonly index?: number;
  /** What a task reported with {@linkcode reportProgress}, when it did. */
  readonly value?: unknown;
}

/**
 * Inside a pool task, send `value` to the `onProgress` option of the call that runs the
 * task. Reports reach the caller in order and all before the call's result; a call made
 * without `onProgress` ignores them at no cost (the worker does not send them).
 *
 * @param value any structured-cloneable value: a fraction, a count, a status object
 * @throws {InvalidStateError} when called outside a task of a `Pool` or `ProcessPoolExecutor`
 * @throws {TypeError} when the value cannot be copied to the caller
 *
 * @example Usage
 * ```ts ignore
 * // tasks.ts, run by pool.apply(tasks.crunch, [files], { onProgress: (n) => console.log(n) })
 * import { reportProgress } from "@mproc/multiprocessing/pool";
 * export function crunch(files: string[]): number {
 *   files.forEach((file, i) => reportProgress((i + 1) / files.length));
 *   return files.length;
 * }
 * ```
 */
export function reportProgress(value: unknown): void {
  const task = activeTask();
  if (task === undefined) {
    throw new InvalidStateError(
      "Cannot report progress: reportProgress() was called outside a pool task; call it from a function a Pool or ProcessPoolExecutor runs, while it runs",
    );
  }
  task.progress?.(value);
}

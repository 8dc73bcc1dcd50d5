import { InvalidStateError } from "../errors.ts";
import { activeTask } from "./_task_context.ts";

/** What a pool task knows about itself; see {@linkcode currentTask}. */
export interface CurrentTask {
  /**
   * Fires when the caller gives up on the task: its `signal` aborted or its `timeout`
   * passed. `signal.reason` is the caller's reason (a `TimeoutError` for a timeout). A task
   * that returns or throws within the pool's `abortGrace` keeps its worker; one that
   * ignores the abort longer has its worker stopped. The worker hears of the abort between
   * turns of its event loop, so a long synchronous loop should `await` now and then.
   */
  readonly signal: AbortSignal;
  /** Input index of the item being run in a `map`/`imap`/`starmap` call; 0 for `apply`/`submit`. */
  readonly index: number;
  /** The task's id, unique within its pool (the items of one map chunk share it). */
  readonly id: number;
}

/**
 * The pool task running in this worker: its abort signal, its item's index and its id.
 *
 * @returns a snapshot; `signal` is the same object for every call within one task
 * @throws {InvalidStateError} when called outside a pool task (in the main program, in a
 *   `Process`, or in a pool worker between tasks)
 *
 * @example Usage
 * ```ts
 * import { currentTask, InvalidStateError, Pool, taskModule } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * // cancel_tasks.ts exports `function itemIndex(_x: unknown) { return currentTask().index; }`
 * const tasks = taskModule<typeof import("./tests/testdata/cancel_tasks.ts")>(
 *   new URL("./tests/testdata/cancel_tasks.ts", import.meta.url),
 * );
 * await using pool = new Pool({ processes: 2 });
 * assert.deepEqual(await pool.map(tasks.itemIndex, ["a", "b", "c"]), [0, 1, 2]);
 * assert.throws(() => currentTask(), InvalidStateError);
 * ```
 */
export function currentTask(): CurrentTask {
  const task = activeTask();
  if (task === undefined) {
    throw new InvalidStateError(
      "Cannot get the current task: currentTask() was called outside a pool task; call it from a function a Pool or ProcessPoolExecutor runs",
    );
  }
  return { signal: task.signal, index: task.index, id: task.id };
}

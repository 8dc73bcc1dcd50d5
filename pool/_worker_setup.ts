// The worker options Pool and ProcessPoolExecutor share, checked once for both.
import { encode, type Encoded } from "../_internal/shareable.ts";
import { isTaskRef, type TaskRef } from "../task.ts";

/** What both pools take to set up their workers. */
export interface WorkerSetup {
  count: number;
  initializer: TaskRef | undefined;
  initargs: readonly unknown[];
  maxTasksPerChild: number | undefined;
}

/**
 * Check the worker options and make the initializer ready to post.
 *
 * @param what the object being made, for messages: `"a pool"`, `"an executor"`
 * @param countName the option that gave `count`: `"processes"`, `"maxWorkers"`
 * @throws {RangeError} when the count or `maxTasksPerChild` is not a positive integer
 * @throws {TypeError} when `initializer` is not a task reference or `initargs` cannot be sent
 */
export function checkWorkerSetup(
  setup: WorkerSetup,
  what: string,
  countName: string,
): { initializer: { module: string; name: string } | null; initargs: Encoded } {
  const { count, initializer, initargs, maxTasksPerChild } = setup;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`Cannot create ${what}: ${countName} must be a positive integer, got ${String(count)}`);
  }
  if (maxTasksPerChild !== undefined && (!Number.isInteger(maxTasksPerChild) || maxTasksPerChild < 1)) {
    throw new RangeError(
      `Cannot create ${what}: maxTasksPerChild must be a positive integer or undefined, got ${
        String(maxTasksPerChild)
      }`,
    );
  }
  if (initializer !== undefined && !isTaskRef(initializer)) {
    throw new TypeError(
      `Cannot create ${what}: the initializer must be a task reference (see taskModule), got ${String(initializer)}`,
    );
  }
  if (!Array.isArray(initargs)) {
    throw new TypeError(`Cannot create ${what}: initargs must be an array, got ${String(initargs)}`);
  }
  return {
    initializer: initializer === undefined ? null : { module: initializer.module, name: initializer.name },
    initargs: encode(initargs, "initargs"),
  };
}

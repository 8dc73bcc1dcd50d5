// The worker options Pool and ProcessPoolExecutor share, checked once for both.
import { encode, type Encoded, encodeForProcess } from "../_internal/shareable.ts";
import { getStartMethod, type StartMethod } from "../process/mod.ts";
import { isTaskRef, type TaskRef } from "../task.ts";

/** What both pools take to set up their workers. */
export interface WorkerSetup {
  count: number;
  initializer: TaskRef | undefined;
  initargs: readonly unknown[];
  maxTasksPerChild: number | undefined;
  /** Where the workers run; the default start method when absent. */
  context: { readonly startMethod: StartMethod } | undefined;
  /** Heap bound of each OS worker process, in MiB. */
  maxHeapMiB?: number | undefined;
  minProcesses?: number;
  idleTimeout?: number;
  maxMemoryPerChild?: number;
  maxQueue?: number;
}

/** The sizing options as the scheduler takes them, defaults filled in. */
export interface Sizing {
  minProcesses: number;
  idleTimeout: number | undefined;
  maxMemoryPerChild: number | undefined;
  maxQueue: number | undefined;
}

/**
 * Check the worker options and make the initializer ready to post.
 *
 * @param what the object being made, for messages: `"a pool"`, `"an executor"`
 * @param countName the option that gave `count`: `"processes"`, `"maxWorkers"`
 * @throws {RangeError} when the count, `maxTasksPerChild` or `maxHeapMiB` is not a positive integer
 * @throws {TypeError} when `initializer` is not a task reference, `initargs` cannot be sent,
 * `context` is not a context, or `maxHeapMiB` is given for worker threads
 */
export function checkWorkerSetup(
  setup: WorkerSetup,
  what: string,
  countName: string,
): {
  initializer: { module: string; name: string } | null;
  initargs: Encoded;
  startMethod: StartMethod;
  maxHeapMiB: number | undefined;
} & Sizing {
  const { count, initializer, initargs, maxTasksPerChild, context, maxHeapMiB } = setup;
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
  const sizing = checkSizing(setup, what, countName);
  const startMethod = context === undefined ? getStartMethod() : context?.startMethod;
  if (startMethod !== "thread" && startMethod !== "process") {
    throw new TypeError(`Cannot create ${what}: context must be what getContext() returns, got ${String(context)}`);
  }
  if (maxHeapMiB !== undefined) {
    if (!Number.isInteger(maxHeapMiB) || maxHeapMiB < 1) {
      throw new RangeError(
        `Cannot create ${what}: maxHeapMiB must be a positive integer or undefined, got ${String(maxHeapMiB)}`,
      );
    }
    // Worker threads share this process's memory: only an OS child's heap can be bounded
    // alike on every runtime (Deno and Bun workers have no resource limits).
    if (startMethod !== "process") {
      throw new TypeError(
        `Cannot create ${what}: maxHeapMiB bounds OS worker processes only: use getContext("process"), or leave it out`,
      );
    }
  }
  return {
    initializer: initializer === undefined ? null : { module: initializer.module, name: initializer.name },
    initargs: startMethod === "process" ? encodeForProcess(initargs, "initargs") : encode(initargs, "initargs"),
    startMethod,
    maxHeapMiB,
    ...sizing,
  };
}

/**
 * Check `minProcesses`, `idleTimeout`, `maxMemoryPerChild` and `maxQueue`. Without
 * `idleTimeout` the pool never shrinks, so `minProcesses` defaults to the count (every
 * worker starts at once, as in Python); with it, to 0 (an idle pool holds no worker).
 *
 * @throws {RangeError} naming the option and the values it takes
 */
function checkSizing(setup: WorkerSetup, what: string, countName: string): Sizing {
  const { count, minProcesses, maxMemoryPerChild, maxQueue } = setup;
  const idleTimeout = setup.idleTimeout === Infinity ? undefined : setup.idleTimeout;
  const fail = (option: string, takes: string, got: unknown) =>
    new RangeError(`Cannot create ${what}: ${option} must be ${takes}, got ${String(got)}`);
  if (idleTimeout !== undefined && !(typeof idleTimeout === "number" && idleTimeout >= 0)) {
    throw fail("idleTimeout", "a non-negative number of milliseconds or undefined", idleTimeout);
  }
  if (
    minProcesses !== undefined && !(Number.isInteger(minProcesses) && minProcesses >= 0 && minProcesses <= count)
  ) {
    throw fail("minProcesses", `an integer from 0 to ${countName} (${count})`, minProcesses);
  }
  if (
    maxMemoryPerChild !== undefined
    && !(typeof maxMemoryPerChild === "number" && maxMemoryPerChild > 0 && maxMemoryPerChild < Infinity)
  ) {
    throw fail("maxMemoryPerChild", "a positive number of bytes or undefined", maxMemoryPerChild);
  }
  if (maxQueue !== undefined && !(Number.isInteger(maxQueue) && maxQueue > 0)) {
    throw fail("maxQueue", "a positive integer or undefined", maxQueue);
  }
  return {
    minProcesses: minProcesses ?? (idleTimeout === undefined ? count : 0),
    idleTimeout,
    maxMemoryPerChild,
    maxQueue,
  };
}

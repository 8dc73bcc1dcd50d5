import { checkTimeout, deadlineOf, raceDeadline, timeLeft } from "../_internal/deadline.ts";
import { fillProcesses, nextProcessBoot, trimProcesses } from "../_internal/process_reserve.ts";
import { getReserveSize, setReserve as setSize, warmUp } from "../_internal/worker_reserve.ts";

/** The largest reserve {@linkcode setReserve} accepts. */
export const MAX_RESERVE = 64;

/** Options for {@linkcode warmReserve}. */
export interface WarmReserveOptions {
  /** Milliseconds to wait at most; then it resolves `false`. @default {undefined} as long as it takes */
  timeout?: number;
  /** Stops the wait (not the workers' start), rejecting with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Set how many started, idle worker threads each thread keeps ready for the processes
 * and pool workers it starts (Python's forkserver idea): starting a worker costs a
 * runtime boot of 10-40 ms, taking one from the reserve a message. Reserve workers have
 * booted the runtime and this package's worker side and nothing else: no module of
 * yours, and no target, until one is taken. They do not keep a program alive, and one
 * that holds environment variables older than the parent's is replaced, not used. The
 * setting holds for every thread of the program; `0` turns the reserve off. The reserve
 * fills the first time a worker is taken from it, and again after each take; see
 * {@linkcode warmReserve} to fill it now. With the `"process"` start method the same size
 * holds for OS child processes forked ahead of need, one reserve for processes and one
 * for pool workers once the program has started either; a working directory changed
 * since one was forked also has it replaced.
 *
 * @param size workers to keep ready, from 0 to {@linkcode MAX_RESERVE}
 * @throws {RangeError} when `size` is not an integer from 0 to {@linkcode MAX_RESERVE}
 *
 * @example Usage
 * ```ts
 * import { getReserve, setReserve } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const before = getReserve();
 * setReserve(0); // every start boots a worker of its own
 * assert.equal(getReserve(), 0);
 * setReserve(before);
 * ```
 */
export function setReserve(size: number): void {
  if (!Number.isInteger(size) || size < 0 || size > MAX_RESERVE) {
    throw new RangeError(
      `Cannot set the worker reserve: the size must be an integer from 0 to ${MAX_RESERVE}, got ${String(size)}`,
    );
  }
  setSize(size);
  trimProcesses(size);
}

/**
 * How many idle workers each thread keeps ready; see {@linkcode setReserve}.
 *
 * @example Usage
 * ```ts
 * import { getReserve } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * assert.equal(typeof getReserve(), "number"); // 1 unless the program set another size
 * ```
 */
export function getReserve(): number {
  return getReserveSize();
}

/**
 * Fill this thread's worker reserve now (and the OS-process reserves of the entries this
 * thread has started OS children on) and wait until every worker in it has booted, so
 * the next starts take ready workers (the reserve otherwise fills on first use). Resolves
 * `true` once they have, `false` when `timeout` ran out first; at once with `true` when
 * the reserve size is 0.
 *
 * @param options `timeout` in milliseconds, `signal` to stop waiting
 * @returns whether every reserve worker has booted
 * @throws {RangeError} when the timeout is negative or NaN
 *
 * @example Usage
 * ```ts
 * import { Process, taskModule, warmReserve } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const tasks = taskModule<typeof import("./tests/testdata/tasks.ts")>(new URL("./tests/testdata/tasks.ts", import.meta.url));
 * assert.equal(await warmReserve({ timeout: 10_000 }), true);
 * const p = new Process({ target: tasks.work, args: [21] }); // starts on a ready worker
 * p.start();
 * await p.join();
 * assert.equal(p.exitCode, 0);
 * ```
 */
export async function warmReserve(options: WarmReserveOptions = {}): Promise<boolean> {
  const { timeout, signal } = options;
  checkTimeout(timeout, "warm the worker reserve");
  if (signal?.aborted) throw signal.reason;
  const deadline = deadlineOf(timeout);
  fillProcesses();
  if (!await warmUp(timeout, signal)) return false;
  for (let next = nextProcessBoot(); next !== null; next = nextProcessBoot()) {
    const left = timeLeft(deadline);
    if (left === 0 || !(await raceDeadline(next, left === Infinity ? undefined : left, signal)).ok) return false;
  }
  return true;
}

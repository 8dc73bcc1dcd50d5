import { InvalidStateError } from "../errors.ts";
import { checkStartMethod, METHODS } from "./_check_start_method.ts";

/**
 * How a {@linkcode Process} runs its target: `"thread"` in a worker thread of this OS
 * process (the default; locks, values and queues in shared memory cross to it), or
 * `"process"` in an OS child process running the same runtime (full isolation: a crash,
 * an abort or a runaway allocation there takes nothing else down).
 */
export type StartMethod = "thread" | "process";

/** Options for {@linkcode setStartMethod}. */
export interface SetStartMethodOptions {
  /** Change the start method even when it was already set or used. @default {false} */
  force?: boolean;
}

const DEFAULT: StartMethod = "thread";

let chosen: StartMethod | null = null;

/**
 * The start methods this runtime supports, the default first, like Python's
 * `multiprocessing.get_all_start_methods()`.
 *
 * @example Usage
 * ```ts
 * import { getAllStartMethods } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * assert.deepEqual(getAllStartMethods(), ["thread", "process"]);
 * ```
 */
export function getAllStartMethods(): StartMethod[] {
  return [...METHODS];
}

/**
 * The start method processes use when they are not given one, like Python's
 * `multiprocessing.get_start_method()`. As in Python, asking fixes the default: a later
 * {@linkcode setStartMethod} needs `force`.
 *
 * @returns `"thread"` unless {@linkcode setStartMethod} chose otherwise
 *
 * @example Usage
 * ```ts
 * import { getStartMethod } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * assert.equal(getStartMethod(), "thread");
 * ```
 */
export function getStartMethod(): StartMethod {
  return chosen ??= DEFAULT;
}

/**
 * Choose the start method for processes that are not given one, like Python's
 * `multiprocessing.set_start_method()`. Call it once, early: it may be set only once,
 * and not after the default was used, unless `force` is given. `null` with `force`
 * forgets the choice.
 *
 * @param method `"thread"` or `"process"`, or `null` with `force` to forget the choice
 * @param options `force` to change a start method already set or used
 * @throws {InvalidStateError} when the start method was already set or used, without `force`
 * @throws {RangeError} when `method` names no start method
 *
 * @example Usage
 * ```ts
 * import { getStartMethod, setStartMethod } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * setStartMethod("process", { force: true });
 * assert.equal(getStartMethod(), "process");
 * setStartMethod(null, { force: true });
 * ```
 */
export function setStartMethod(method: StartMethod | null, options: SetStartMethodOptions = {}): void {
  const { force = false } = options;
  const next = method === null && force ? null : checkStartMethod(method, "set the start method");
  if (chosen !== null && !force) {
    throw new InvalidStateError(
      `Cannot set the start method to "${next}": it was already set to "${chosen}" or used: call it once, before starting processes, or pass { force: true }`,
    );
  }
  chosen = next;
}

import { identity, rename } from "../_internal/identity.ts";
import { parentProcessAlive } from "../_internal/process_child.ts";
import { isAlive } from "../_internal/shared_area.ts";
import { endThread } from "../_internal/worker_child.ts";
import { runtime } from "../_runtime/mod.ts";
import { liveChildren } from "./_children.ts";
import type { Process } from "./process.ts";

/** This thread as a process: what `currentProcess()` returns. */
export interface CurrentProcess {
  /** Display name: "MainProcess" in the main thread. Settable. */
  name: string;
  /** Unique id in the program; 1 for the main thread, the OS pid in an OS child process. */
  readonly ident: number;
  /** Same as `ident`. */
  readonly pid: number;
  /** Whether this process was started as a daemon. */
  readonly daemon: boolean;
  /** Always `null`: a running process has no exit code yet (Python's `exitcode` is `None`). */
  readonly exitCode: number | null;
  /** Always true: this code is running. */
  isAlive(): boolean;
}

/** The parent of this thread, as a child sees it. */
export interface ParentProcess {
  /** The parent's name. */
  readonly name: string;
  /** The parent's ident. */
  readonly ident: number;
  /** Same as `ident`. */
  readonly pid: number;
  /** Whether the parent is still running. */
  isAlive(): boolean;
}

/**
 * The process running this code, like Python's `multiprocessing.current_process()`.
 *
 * @returns this thread's name, ident and daemon flag
 *
 * @example Usage
 * ```ts
 * import { currentProcess } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * assert.equal(currentProcess().name, "MainProcess");
 * assert.equal(currentProcess().exitCode, null);
 * ```
 */
export function currentProcess(): CurrentProcess {
  return {
    get name() {
      return identity().name;
    },
    set name(value: string) {
      rename(String(value));
    },
    ident: identity().pid ?? identity().ident,
    pid: identity().pid ?? identity().ident,
    daemon: identity().daemon,
    exitCode: null,
    isAlive: () => true,
  };
}

/**
 * The parent of this process, or `null` in the main thread, like Python's
 * `multiprocessing.parent_process()`.
 *
 * @example Usage
 * ```ts
 * import { parentProcess } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * assert.equal(parentProcess(), null);
 * ```
 */
export function parentProcess(): ParentProcess | null {
  const parent = identity().parent;
  if (parent === null) return null;
  const shown = parent.pid ?? parent.ident;
  return {
    name: parent.name,
    ident: shown,
    pid: shown,
    isAlive: parent.os === true ? parentProcessAlive : () => isAlive(parent.ident),
  };
}

/**
 * The children of this process that are still running, like Python's
 * `multiprocessing.active_children()`.
 *
 * @example Usage
 * ```ts
 * import { activeChildren } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * assert.ok(Array.isArray(activeChildren()));
 * ```
 */
export function activeChildren(): Process[] {
  return liveChildren() as Process[];
}

/**
 * Number of logical CPUs, like Python's `multiprocessing.cpu_count()`.
 *
 * @example Usage
 * ```ts
 * import { cpuCount } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * assert.ok(cpuCount() >= 1);
 * ```
 */
export function cpuCount(): number {
  return runtime.cpuCount();
}

/**
 * End this process now with `code`, like Python's `sys.exit(code)` in a child: the parent
 * sees `exitCode === code`. Children of this process end with it. In the main thread it
 * ends the program.
 *
 * @param code exit code @default {0}
 *
 * @example Usage
 * ```ts ignore
 * import { exit } from "@mproc/multiprocessing";
 * exit(3);
 * ```
 */
export function exit(code = 0): never {
  if (!Number.isInteger(code)) throw new TypeError(`Cannot exit: the code must be an integer, got ${String(code)}`);
  return endThread(code);
}

// Child side of a worker started by worker_parent.ts: join the shared area, take on the
// identity the parent chose, and end the thread through one exit path.
import { runtime } from "../_runtime/mod.ts";
import type { ParentPort } from "../_runtime/mod.ts";
import { singleFileHint } from "./bundled.ts";
import type { ErrorRecord } from "./error_record.ts";
import { identity, setIdentity } from "./identity.ts";
import { adoptArea, markExited } from "./shared_area.ts";
import type { ChildInit } from "./worker_parent.ts";

const cleanups: (() => void)[] = [];

/**
 * Set up this worker from what its parent sent and return the entry's payload.
 *
 * @throws {Error} when called outside a worker started by this package
 */
export function enterChild<P>(): { payload: P; port: ParentPort } {
  const init = runtime.workerData() as ChildInit<P> | undefined;
  const port = runtime.parentPort();
  if (init === undefined || port === null) {
    throw new Error("Cannot enter a child: this thread was not started by @mproc/multiprocessing");
  }
  adoptArea(init.area);
  setIdentity(init.identity);
  return { payload: init.payload, port };
}

/** Run `fn` right before this thread ends through {@linkcode endThread}. */
export function beforeExit(fn: () => void): void {
  cleanups.push(fn);
}

/** End this worker with `code`, recording the exit for everyone first. */
export function endThread(code: number): never {
  for (const fn of cleanups.splice(0)) fn();
  if (!runtime.isMainThread) markExited(identity().ident, code);
  return runtime.exitThread(code);
}

/** A function a worker runs. */
export type TaskFunction = (...args: unknown[]) => unknown;

/**
 * Load the function `ref` names, with errors that say which module or export is missing.
 *
 * @param load how to import a module; a pool passes its cache
 * @throws {Error} when the module fails to load
 * @throws {TypeError} when the module has no such exported function
 */
export async function loadTask(
  ref: { module: string; name: string },
  load: (url: string) => Promise<Record<string, unknown>> = runtime.importModule,
): Promise<TaskFunction> {
  const { module, name } = ref;
  let exports: Record<string, unknown>;
  try {
    exports = await load(module);
  } catch (cause) {
    throw new Error(
      `Cannot run task "${name}": module "${module}" failed to load: ${
        (cause as Error)?.message ?? cause
      }${singleFileHint()}`,
      {
        cause,
      },
    );
  }
  const fn = exports[name];
  if (typeof fn !== "function") {
    const has = Object.keys(exports).filter((k) => typeof exports[k] === "function");
    throw new TypeError(
      `Cannot run task "${name}": module "${module}" has no exported function of that name`
        + (has.length > 0 ? ` (it exports ${has.map((k) => `"${k}"`).join(", ")})` : ""),
    );
  }
  return fn as TaskFunction;
}

/** Print a crash to stderr as Python does from a child: its traceback headed by the process name. */
export function printCrash(record: ErrorRecord): void {
  runtime.printError(`Process ${identity().name}:\n${record.stack ?? `${record.name}: ${record.message}`}`);
}

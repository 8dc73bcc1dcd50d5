// Child side of a worker started by _spawn.ts: join the shared area, take on the
// identity the parent chose, and end the thread through one exit path.
import { setIdentity } from "./_identity.ts";
import { identity } from "./_identity.ts";
import { runtime } from "./_runtime/mod.ts";
import type { ParentPort } from "./_runtime/mod.ts";
import { adoptArea, markExited } from "./_shared_area.ts";
import type { ChildInit } from "./_spawn.ts";

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

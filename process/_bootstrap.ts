// What a Process child runs: load the target, revive the arguments, run, and report how it
// ended. Mirrors Python's BaseProcess._bootstrap. Importing it runs nothing, so a reserve
// worker loads it while idle (see _internal/worker_reserve.ts) and calls `run` once given
// its process; a child started cold runs it through _entry.ts.
import { errorToRecord } from "../_internal/error_record.ts";
import { enterProcess } from "../_internal/process_child.ts";
import { decode } from "../_internal/shareable.ts";
import { endThread, enterChild, loadTask, printCrash } from "../_internal/worker_child.ts";
import { runtime } from "../_runtime/mod.ts";
import { liveChildren } from "./_children.ts";
import type { ProcessMessage, ProcessPayload } from "./_protocol.ts";

/**
 * Take this child's process from its parent and start it; resolves once it runs, and the
 * child then ends as a script does.
 *
 * @throws {Error} when this thread or process was not started by this package
 */
export async function run(): Promise<void> {
  // The main thread of an OS child hears from its parent over the IPC channel; a worker
  // thread has its payload at hand.
  const entered = runtime.isMainThread ? await enterProcess<ProcessPayload>() : enterChild<ProcessPayload>();
  if (entered === null) {
    throw new Error("Cannot run a process entry: this program was not started by @mproc/multiprocessing");
  }
  const { payload, port } = entered;

  let failing = false;

  async function fail(error: unknown): Promise<never> {
    // A second error while the first is being reported changes nothing.
    if (failing) return await new Promise<never>(() => {});
    failing = true;
    const record = errorToRecord(error);
    printCrash(record);
    // Over an IPC channel the report must leave before the process does.
    try {
      await port.post({ t: "error", error: record } satisfies ProcessMessage);
    } catch {
      // The parent is gone; the exit code is all that is left to give.
    }
    return endThread(1);
  }

  runtime.onUncaught((error) => void fail(error));

  async function main(): Promise<void> {
    try {
      const fn = await loadTask(payload.target);
      const args = await decode(payload.args) as unknown[];
      await fn(...args);
    } catch (error) {
      await fail(error);
    }
    // Like Python's atexit hook in a child: stop daemon children, then wait for the others.
    const children = liveChildren();
    for (const child of children) if (child.daemon) child.terminate();
    for (const child of children) await child.join();
    // Then the child ends as a script does, once its timers and pending I/O are done (the
    // JS counterpart of Python joining non-daemon threads at exit), with exit code 0; an
    // error thrown meanwhile still ends it with 1 through the uncaught handler. An OS child
    // then exits at once, as Python's does with os._exit, rather than tearing down.
    if (runtime.isMainThread) runtime.exitWhenIdle();
  }

  void main();
}

// First module a Process worker runs: load the target, revive the arguments, run, and
// report how it ended. Mirrors Python's BaseProcess._bootstrap.
import { errorToRecord } from "../_internal/error_record.ts";
import { decode } from "../_internal/shareable.ts";
import { endThread, enterChild, loadTask, printCrash } from "../_internal/worker_child.ts";
import { runtime } from "../_runtime/mod.ts";
import { liveChildren } from "./_children.ts";
import type { ProcessMessage, ProcessPayload } from "./_protocol.ts";

const { payload, port } = enterChild<ProcessPayload>();

function fail(error: unknown): never {
  const record = errorToRecord(error);
  printCrash(record);
  port.post({ t: "error", error: record } satisfies ProcessMessage);
  return endThread(1);
}

runtime.onUncaught(fail);

async function main(): Promise<void> {
  try {
    const fn = await loadTask(payload.target);
    const args = await decode(payload.args) as unknown[];
    await fn(...args);
  } catch (error) {
    fail(error);
  }
  // Like Python's atexit hook in a child: stop daemon children, then wait for the others.
  const children = liveChildren();
  for (const child of children) if (child.daemon) child.terminate();
  for (const child of children) await child.join();
  // Then the worker ends as a script does, once its timers and pending I/O are done (the
  // JS counterpart of Python joining non-daemon threads at exit), with exit code 0; an
  // error thrown meanwhile still ends it with 1 through the uncaught handler.
}

void main();

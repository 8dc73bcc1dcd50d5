// First module a Process worker runs: load the target, revive the arguments, run, and
// report how it ended. Mirrors Python's BaseProcess._bootstrap.
import { endThread, enterChild } from "../_child.ts";
import { errorToRecord } from "../_codec.ts";
import { identity } from "../_identity.ts";
import { runtime } from "../_runtime/mod.ts";
import { decode } from "../_shareable.ts";
import { liveChildren } from "./_children.ts";
import type { ProcessMessage, ProcessPayload } from "./_protocol.ts";

const { payload, port } = enterChild<ProcessPayload>();

function fail(error: unknown): never {
  const record = errorToRecord(error);
  // Python prints a child's traceback to stderr from the child, headed by its name.
  runtime.printError(`Process ${identity().name}:\n${record.stack ?? `${record.name}: ${record.message}`}`);
  port.post({ t: "error", error: record } satisfies ProcessMessage);
  return endThread(1);
}

runtime.onUncaught(fail);

async function loadTarget(): Promise<(...args: unknown[]) => unknown> {
  const { module, name } = payload.target;
  let exports: Record<string, unknown>;
  try {
    exports = await runtime.importModule(module);
  } catch (cause) {
    throw new Error(
      `Cannot run task "${name}": module "${module}" failed to load: ${(cause as Error)?.message ?? cause}`,
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
  return fn as (...args: unknown[]) => unknown;
}

async function main(): Promise<void> {
  try {
    const fn = await loadTarget();
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

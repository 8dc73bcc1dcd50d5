// The "thread" start method: a worker thread of this OS process, sharing its memory.
import { encode } from "../_internal/shareable.ts";
import { spawnChild } from "../_internal/worker_parent.ts";
import { preloadInReserve } from "../_internal/worker_reserve.ts";
import { ENTRY, type Launcher, RUNNER } from "./_launcher.ts";
import type { ProcessPayload } from "./_protocol.ts";

// Reserve workers load the process runner while idle: a warm start then imports only the target's module.
preloadInReserve(RUNNER);

/** Start the target in a worker thread; shareable arguments arrive live. */
export const launchThread: Launcher = ({ target, args, name, path, daemon }) => {
  const payload: ProcessPayload = { target, args: encode(args, "args") };
  return spawnChild({ entry: ENTRY, run: RUNNER, payload, name, path, daemon });
};

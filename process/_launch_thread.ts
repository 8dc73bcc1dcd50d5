// The "thread" start method: a worker thread of this OS process, sharing its memory.
import { encode } from "../_internal/shareable.ts";
import { spawnChild } from "../_internal/worker_parent.ts";
import { ENTRY, type Launcher } from "./_launcher.ts";
import type { ProcessPayload } from "./_protocol.ts";

/** Start the target in a worker thread; shareable arguments arrive live. */
export const launchThread: Launcher = ({ target, args, name, path, daemon }) => {
  const payload: ProcessPayload = { target, args: encode(args, "args") };
  return spawnChild({ entry: ENTRY, payload, name, path, daemon });
};

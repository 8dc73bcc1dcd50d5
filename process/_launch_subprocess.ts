// The "process" start method: an OS child process running the same runtime, sharing no
// memory with this one, so arguments that live in shared memory are refused up front.
import { spawnProcess } from "../_internal/process_parent.ts";
import { encodeForProcess } from "../_internal/shareable.ts";
import { ENTRY, type Launcher } from "./_launcher.ts";
import type { ProcessPayload } from "./_protocol.ts";

/** Start the target in an OS child process. */
export const launchSubprocess: Launcher = ({ target, args, name, path, daemon, maxHeapMiB }) => {
  const payload: ProcessPayload = { target, args: encodeForProcess(args, "args") };
  return spawnProcess({ entry: ENTRY, payload, name, path, daemon, maxHeapMiB });
};

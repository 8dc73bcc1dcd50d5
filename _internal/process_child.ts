// Child side of an OS child process started by process_parent.ts: take on the identity
// the parent chose, as the root of a shared area of its own, and end when the parent goes.
import { type ProcessParentPort, runtime } from "../_runtime/mod.ts";
import { setIdentity } from "./identity.ts";
import type { ProcessInit } from "./process_parent.ts";
import { MAIN_IDENT } from "./shared_area.ts";
import { endThread } from "./worker_child.ts";

let parentPort: ProcessParentPort | null = null;

/** Whether the parent OS process of this one is still there (the channel to it is open). */
export function parentProcessAlive(): boolean {
  return parentPort?.connected ?? false;
}

/** Exit code of a child whose parent went away, as if it had been terminated. */
const ORPHANED = 143;

/**
 * In an OS child started by this package: wait for what the parent sent, set this
 * process up, and return the entry's payload; `null` anywhere else. `keepAlive` lets the
 * channel keep the child running (a pool worker waiting for work).
 */
export async function enterProcess<P>(
  keepAlive = false,
): Promise<{ payload: P; port: ProcessParentPort } | null> {
  const entered = runtime.enterProcess(keepAlive);
  if (entered === null) return null;
  const { data, port } = await entered;
  parentPort = port;
  const init = data as ProcessInit<P>;
  // Its own locks and thread children live in this process's own shared area, where its
  // main thread has the main ident; others see it by its pid.
  setIdentity({ ...init.identity, ident: MAIN_IDENT, pid: runtime.pid });
  // No process is left behind: when the parent ends, however it ends, so does this one.
  port.onDisconnect(() => endThread(ORPHANED));
  return { payload: init.payload, port };
}

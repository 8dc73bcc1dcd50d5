// Who this thread is: its ident, name and place in the process tree. The main thread is
// ident 1 named "MainProcess", like Python's.
import { MAIN_IDENT } from "./shared_area.ts";

/** A thread's identity as a child knows it. */
export interface Identity {
  /** Unique id for the life of the program. */
  ident: number;
  /** Display name. */
  name: string;
  /** Python's `_identity`: position in the tree, `[2, 1]` for "Process-2:1". */
  path: number[];
  /** Whether the parent marked this worker daemonic. */
  daemon: boolean;
  /** The OS process id, set in the main thread of an OS child; others go by their ident. */
  pid?: number;
  /**
   * The parent's ident, name and shown pid, or `null` in the main thread. `os` is set when
   * the parent is another OS process, whose liveness the shared area cannot tell.
   */
  parent: { ident: number; name: string; pid?: number; os?: boolean } | null;
}

let self: Identity = { ident: MAIN_IDENT, name: "MainProcess", path: [], daemon: false, parent: null };
let childCounter = 0;

/**
 * This thread's ident, the same as `identity().ident`: a plain binding, one load, for the
 * uncontended take of a lock, which costs about as much as the compare-exchange itself.
 */
export let ownIdent: number = MAIN_IDENT;

/** This thread's identity. */
export function identity(): Identity {
  return self;
}

/** Set this thread's identity; called by a worker's entry before user code runs. */
export function setIdentity(next: Identity): void {
  self = next;
  ownIdent = next.ident;
}

/** Rename this thread (the `name` setter of `currentProcess()`). */
export function rename(name: string): void {
  self = { ...self, name };
}

/** The tree path for the next child of this thread. */
export function nextChildPath(): number[] {
  return [...self.path, ++childCounter];
}

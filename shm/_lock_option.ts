// The `lock` option of Value and SharedArray, as Python's sharedctypes reads it: true
// makes a new RLock, a lock is used as given, false means no lock. The lock travels with
// the object to other threads as its own shared state.
import { decodeSync, type SharedState, toShared } from "../_internal/shareable.ts";
import { Lock } from "../sync/lock.ts";
import { RLock } from "../sync/rlock.ts";

/** The lock an object guards itself with, or null for none. */
export function lockFrom(option: unknown, what: string): Lock | RLock | null {
  if (option === undefined || option === true) return new RLock();
  if (option === false) return null;
  if (option instanceof Lock || option instanceof RLock) return option;
  throw new TypeError(`Cannot make ${what}: the lock option must be true, false, a Lock or an RLock`);
}

/** The lock's state for another thread. */
export function lockState(lock: Lock | RLock | null): SharedState | null {
  return lock === null ? null : lock[toShared]();
}

/** The live lock from its state. */
export function reviveLock(state: SharedState | null): Lock | RLock | null {
  return state === null ? null : decodeSync({ value: null, refs: [{ path: [], shared: state }] }) as Lock | RLock;
}

/** The error `getLock()` throws for an object made with `lock: false`. */
export function noLock(what: string): TypeError {
  return new TypeError(`Cannot get the lock of ${what}: it was made with lock: false`);
}

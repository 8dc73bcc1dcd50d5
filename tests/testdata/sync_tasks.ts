// Worker targets for the sync tests. Shared counters live in plain Int32Arrays over a
// SharedArrayBuffer and are updated without atomics where the test is about a lock.
import type { Lock } from "../../sync/lock.ts";
import type { RLock } from "../../sync/rlock.ts";
import type { Box } from "./box.ts";

/** `n` times: take the lock, do a non-atomic `counter += 1`, release. */
export function lockCount(lock: Lock | RLock, counter: SharedArrayBuffer, n: number): void {
  const c = new Int32Array(counter);
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    c[0] = c[0] + 1;
    lock.release();
  }
}

/** The same with the async forms and `using`, half of the time via `hold()`. */
export async function lockCountAsync(lock: Lock | RLock, counter: SharedArrayBuffer, n: number): Promise<void> {
  const c = new Int32Array(counter);
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      using _ = await lock.hold();
      c[0] = c[0] + 1;
    } else {
      await lock.acquire();
      c[0] = c[0] + 1;
      lock.release();
    }
  }
}

/** Take the lock, raise flag 0 of `box`, then block until flag 1 (the test terminates us first). */
export function holdForever(lock: Lock | RLock, box: Box): void {
  lock.acquireSync();
  box.raise(0);
  box.untilSync(1, 60_000);
}

/** Release a lock this worker never took; report the error's name in the box. */
export function releaseForeign(lock: Lock | RLock, box: Box): void {
  try {
    lock.release();
    box.write("released");
  } catch (error) {
    box.write((error as Error).name);
  }
}

/**
 * Locks and friends shared between threads, like Python's `multiprocessing.synchronize`:
 * {@linkcode Lock}, {@linkcode RLock}, {@linkcode Semaphore}, {@linkcode BoundedSemaphore},
 * {@linkcode Condition}, {@linkcode Event}, {@linkcode Barrier} and {@linkcode RWLock}.
 * All live in SharedArrayBuffers, pass to workers through `Process` args, and wait with
 * `Atomics`. Every wait has an async form for any thread and a `Sync` twin for threads
 * that may block. Locks are robust: when a holder ends, the next acquirer gets the lock
 * and sees `ownerDied`.
 *
 * @example Usage
 * ```ts
 * import { Lock } from "@mproc/multiprocessing/sync";
 * import assert from "node:assert/strict";
 * const lock = new Lock();
 * {
 *   using _ = await lock.hold();
 *   assert.ok(lock.locked());
 * }
 * assert.ok(!lock.locked());
 * ```
 *
 * @module
 */
export * from "../shareable.ts";
export * from "../task.ts";
export * from "./barrier.ts";
export * from "./condition.ts";
export * from "./event.ts";
export * from "./lock.ts";
export * from "./rlock.ts";
export * from "./rw_lock.ts";
export * from "./semaphore.ts";

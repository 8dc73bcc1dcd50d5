/**
 * Shared memory, like Python's `multiprocessing.sharedctypes` and
 * `multiprocessing.shared_memory`: {@linkcode Value} and {@linkcode RawValue},
 * {@linkcode SharedArray} (also exported as `Array`) and {@linkcode RawArray} with Python's
 * typecodes, and {@linkcode SharedMemory} blocks and {@linkcode ShareableList}s that any
 * thread attaches to by name. Every object lives in a SharedArrayBuffer, passes to workers
 * through `args`, and arrives there as the same memory.
 *
 * @example Usage
 * ```ts
 * import { SharedArray, Value } from "@mproc/multiprocessing/shm";
 * import assert from "node:assert/strict";
 * const total = new Value("d", 0);
 * const items = new SharedArray("d", [1, 2, 3]);
 * {
 *   using _ = total.getLock().holdSync();
 *   for (const x of items.view) total.value += x;
 * }
 * assert.equal(total.value, 6);
 * ```
 *
 * @module
 */
export * from "./array.ts";
export * from "./shareable_list.ts";
export * from "./shared_memory.ts";
export * from "./typecode.ts";
export * from "./value.ts";

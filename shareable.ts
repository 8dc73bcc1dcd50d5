/**
 * The shareable-handle protocol, for classes of your own that live in shared memory.
 *
 * Structured clone carries a `SharedArrayBuffer` by reference but drops class identity. A
 * shareable class describes itself as plain state (`[toShared]()`), and the thread that
 * receives it rebuilds a live object of the same class over the same memory with the
 * reviver registered for its `kind`. Every lock, value and queue of this package works
 * this way; instances may sit anywhere in `args` and `initargs`. A class whose objects can
 * also reach an OS child process (the `"process"` start method, no shared memory) also
 * implements `[toProcess]()`, as Manager proxies do; any other is refused there by name.
 *
 * @example Usage
 * ```ts
 * import { registerShareable, type SharedState, toShared } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 *
 * class Counter {
 *   readonly cells: Int32Array;
 *   constructor(buffer = new SharedArrayBuffer(4)) {
 *     this.cells = new Int32Array(buffer);
 *   }
 *   [toShared](): SharedState {
 *     return { kind: "example.Counter", module: import.meta.url, state: this.cells.buffer };
 *   }
 * }
 * registerShareable("example.Counter", (buffer: SharedArrayBuffer) => new Counter(buffer));
 * assert.equal(new Counter()[toShared]().kind, "example.Counter");
 * ```
 *
 * @module
 */
export {
  isShareable,
  registerShareable,
  type Shareable,
  type SharedState,
  toProcess,
  toShared,
} from "./_internal/shareable.ts";

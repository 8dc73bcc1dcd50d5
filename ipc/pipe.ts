import { identity } from "../_internal/identity.ts";
import { adoptConnection, newEnds, PIPE_BYTES, takeSlot } from "./_handles.ts";
import { Ring } from "./_ring.ts";
import { Connection } from "./connection.ts";

/** Options of {@linkcode Pipe}. */
export interface PipeOptions {
  /** Both ends send and receive; when false the first end only receives, the second only sends. @default {true} */
  duplex?: boolean;
  /**
   * Bytes buffered in each direction (rounded up to a power of two, at least 256); a
   * send waits while they are full, and a longer message travels in pieces.
   * @default {65536}
   */
  bytes?: number;
}

/**
 * A pair of connected {@linkcode Connection}s, like Python's `multiprocessing.Pipe()`.
 * Pass either end to a worker in `args`; the parent may then close its own copy of that
 * end, and the reader sees `EOFError` once every copy of the writing end is closed or
 * held by threads that have ended.
 *
 * @typeParam T the messages' type
 * @param options `duplex` and `bytes`
 * @returns `[a, b]`, or `[reader, writer]` when not duplex
 * @throws {RangeError} when `bytes` is out of range
 * @example Usage
 * ```ts
 * import { Pipe } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const [reader, writer] = Pipe<number[]>({ duplex: false });
 * writer.sendSync([1, 2, 3]);
 * assert.deepEqual(await reader.recv(), [1, 2, 3]);
 * assert.equal(reader.writable, false);
 * ```
 */
export function Pipe<T = unknown>(options: PipeOptions = {}): [Connection<T>, Connection<T>] {
  const { duplex = true, bytes = PIPE_BYTES } = options;
  if (typeof bytes !== "number" || !Number.isInteger(bytes) || bytes < 1 || bytes > 2 ** 30) {
    throw new RangeError(`Cannot create pipe: bytes must be an integer from 1 to 2^30, got ${String(bytes)}`);
  }
  const ends = newEnds();
  const view = new Int32Array(ends);
  const me = identity().ident;
  const there = Ring.create(bytes, 0, 0).state();
  const back = duplex ? Ring.create(bytes, 0, 0).state() : null;
  const make = (end: number, input: typeof there | null, output: typeof there | null) => {
    adoptConnection({ ends, end, slot: takeSlot(view, end, me), sender: me, input, output });
    return new Connection<T>();
  };
  return [make(0, there, back), make(1, back, there)];
}

// Structured data to bytes and back with structured-clone semantics (Maps, Dates, typed
// arrays, bigint and built-in errors survive; functions and SharedArrayBuffers throw).
// node:v8 offers this on Node, Deno and Bun alike.
import * as v8 from "node:v8";

/** Encode `value` as structured-clone bytes. */
export function serialize(value: unknown): Uint8Array {
  return v8.serialize(value);
}

/** Decode bytes made by {@linkcode serialize}. */
export function deserialize(bytes: Uint8Array): unknown {
  return v8.deserialize(bytes);
}

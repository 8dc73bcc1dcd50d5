// Values to ring records and back. Numbers, short strings and typed arrays have their
// own tags, because structured serialization costs 1-10 µs a value and caps a ring far
// below what shared memory can move; everything else goes through the runtime's
// structured serializer. Shared memory cannot travel as bytes, so a SharedArrayBuffer or
// a shareable object (a Lock) in an item is refused, as Python refuses a Lock in a queue.
import { encode } from "../_internal/shareable.ts";
import { runtime } from "../_runtime/mod.ts";

/** A float64 in the record's 8 payload bytes. */
export const NUM = 1;
/** A short string as UTF-16 code units. */
export const STR16 = 2;
/** A longer string as UTF-8. */
export const STR8 = 3;
/** A typed array: `sub` names its class. */
export const TYPED = 4;
/** Structured-serialized bytes. */
export const V8 = 5;
/** No payload: `sub` is 0 undefined, 1 null, 2 false, 3 true. */
export const CONST = 7;
/** Raw bytes from `Connection.sendBytes()`. */
export const BYTES = 8;

/** Strings shorter than this are copied as UTF-16; longer ones are UTF-8 encoded natively. */
const SHORT = 48;

type TypedArrayClass = { new(buffer: ArrayBuffer): ArrayBufferView; readonly BYTES_PER_ELEMENT: number };

const TYPED_CLASSES: TypedArrayClass[] = [
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array as unknown as TypedArrayClass,
  BigUint64Array as unknown as TypedArrayClass,
];
const CONSTS = [undefined, null, false, true];

/** One value ready to be written: a tag, a small sub-tag and the payload. */
export interface Msg {
  tag: number;
  sub: number;
  /** Payload length in bytes. */
  len: number;
  num: number;
  str: string;
  bytes: Uint8Array | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function msg(tag: number, sub: number, len: number, num: number, str: string, bytes: Uint8Array | undefined): Msg {
  return { tag, sub, len, num, str, bytes };
}

function typedIndex(view: ArrayBufferView): number {
  const proto = Object.getPrototypeOf(view);
  for (let i = 0; i < TYPED_CLASSES.length; i++) if (TYPED_CLASSES[i].prototype === proto) return i;
  return -1;
}

/**
 * Turn `value` into a record payload, before any lock is taken, so a value that cannot be
 * sent leaves the ring untouched.
 *
 * @throws {TypeError} when the value cannot be copied to another thread
 */
export function toMsg(value: unknown, what: string): Msg {
  switch (typeof value) {
    case "number":
      return msg(NUM, 0, 8, value, "", undefined);
    case "string":
      if (value.length < SHORT) return msg(STR16, 0, value.length * 2, 0, value, undefined);
      return bytesMsg(STR8, 0, encoder.encode(value));
    case "boolean":
      return msg(CONST, value ? 3 : 2, 0, 0, "", undefined);
    case "undefined":
      return msg(CONST, 0, 0, 0, "", undefined);
    case "object":
      if (value === null) return msg(CONST, 1, 0, 0, "", undefined);
      if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
        const sub = typedIndex(value);
        if (sub >= 0) {
          return bytesMsg(TYPED, sub, new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
        }
      }
      if (jsonSafe(value, 0)) {
        // Plain data that JSON round-trips exactly: JSON text is 5-30× cheaper than
        // structured serialization (which costs ~35 µs a small object on Deno).
        const text = JSON.stringify(value);
        if (text.length < SHORT) return msg(STR16, AS_JSON, text.length * 2, 0, text, undefined);
        return bytesMsg(STR8, AS_JSON, encoder.encode(text));
      }
  }
  return serialized(value, what);
}

/** `sub` of a string record that holds JSON text. */
const AS_JSON = 1;

/**
 * Whether JSON round-trips `v` to what structured clone would give: plain objects and
 * arrays of finite numbers (not -0), strings, booleans and null. Anything else (undefined,
 * holes, Dates, Maps, class instances, cycles, very deep nesting) takes the structured path.
 */
function jsonSafe(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(v) && !Object.is(v, -0);
    case "object": {
      if (v === null) return true;
      if (depth > 32) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!jsonSafe(v[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key of Object.keys(v)) if (!jsonSafe((v as Record<string, unknown>)[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

/** Raw bytes, copied as they are. */
export function bytesToMsg(bytes: Uint8Array): Msg {
  return bytesMsg(BYTES, 0, bytes);
}

function bytesMsg(tag: number, sub: number, bytes: Uint8Array): Msg {
  return msg(tag, sub, bytes.byteLength, 0, "", bytes);
}

function serialized(value: unknown, what: string): Msg {
  const encoded = encode(value, what);
  if (encoded.refs !== undefined) {
    const at = encoded.refs[0].path.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("");
    throw new TypeError(
      `Cannot send ${what}${at} through a queue or pipe: it is a shared object (${
        encoded.refs[0].shared.kind
      }), which travels only in args, as in Python`,
    );
  }
  try {
    return bytesMsg(V8, 0, runtime.serialize(value));
  } catch (cause) {
    throw new TypeError(
      `Cannot send ${what} through a queue or pipe: it cannot be structured-cloned (${
        (cause as Error).message
      }); a SharedArrayBuffer travels only in args`,
      { cause },
    );
  }
}

/** Write a message's payload at byte `at` (8-aligned) of the ring's views. */
export function writePayload(m: Msg, u8: Uint8Array, u16: Uint16Array, f64: Float64Array, at: number): void {
  switch (m.tag) {
    case NUM:
      f64[at >> 3] = m.num;
      return;
    case STR16: {
      const s = m.str;
      const base = at >> 1;
      for (let i = 0; i < s.length; i++) u16[base + i] = s.charCodeAt(i);
      return;
    }
    case CONST:
      return;
    default:
      u8.set(m.bytes!, at);
  }
}

/** Read a single-record value from the ring's views. */
export function readPayload(
  tag: number,
  sub: number,
  u8: Uint8Array,
  u16: Uint16Array,
  f64: Float64Array,
  at: number,
  len: number,
): unknown {
  switch (tag) {
    case NUM:
      return f64[at >> 3];
    case STR16: {
      const base = at >> 1;
      const text = String.fromCharCode.apply(null, u16.subarray(base, base + (len >> 1)) as unknown as number[]);
      return sub === AS_JSON ? JSON.parse(text) : text;
    }
    case CONST:
      return CONSTS[sub];
    default:
      return fromBytes(tag, sub, u8.subarray(at, at + len), false);
  }
}

/**
 * Rebuild a value from its whole payload. `owned` says the bytes are a private copy the
 * value may keep; otherwise they view the ring and are copied first.
 */
export function fromBytes(tag: number, sub: number, bytes: Uint8Array, owned: boolean): unknown {
  switch (tag) {
    case STR8: {
      const text = decoder.decode(bytes);
      return sub === AS_JSON ? JSON.parse(text) : text;
    }
    case TYPED:
    case BYTES: {
      // Allocate, then set: building a typed array from a view of shared memory copies
      // element by element on V8, several times slower than set().
      let copy = bytes;
      if (!owned) {
        copy = new Uint8Array(bytes.length);
        copy.set(bytes);
      }
      if (tag === BYTES || sub === 0) return copy;
      const Class = TYPED_CLASSES[sub];
      if (copy.byteOffset === 0 && copy.byteLength === copy.buffer.byteLength) {
        return new Class(copy.buffer as ArrayBuffer);
      }
      return new Class(copy.slice().buffer);
    }
    case V8:
      return runtime.deserialize(bytes);
    default:
      throw new TypeError(`Cannot read a message: unknown record tag ${tag}`);
  }
}

// Typecode → typed array, byte size and the conversion between JavaScript values and the
// stored numbers. Integers wrap like ctypes (the typed array does it); a value of the
// wrong kind is refused before anything is written. Each single read and write is atomic
// (Atomics on the integer views; floats go through an integer view of the same bits), so a
// reader never sees half of a write, with or without a lock.
import type { Typecode } from "./typecode.ts";

export type TypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

type ViewClass = new(buffer: SharedArrayBuffer, byteOffset?: number, length?: number) => TypedArray;

/** Atomic access to the items of one typecode. */
interface Access {
  /** The view that `load` and `store` take: `cells` itself, or an integer view of its bits. */
  atomicView(cells: TypedArray): AtomicView;
  /** Atomically read item `i`. */
  load(view: AtomicView, i: number): number | bigint;
  /** Atomically write item `i`. */
  store(view: AtomicView, i: number, raw: number | bigint): void;
}

/** How values of one typecode are stored. */
export interface Spec extends Access {
  /** The one-letter code. */
  code: string;
  /** The long name, e.g. `int16`. */
  name: string;
  bytes: number;
  View: ViewClass;
  /** The stored form of `value`; throws TypeError naming `where` when it does not fit the type. */
  encode(value: unknown, where: string): number | bigint;
  /** The JavaScript value of a stored number. */
  decode(raw: number | bigint): unknown;
  /** The value of zeroed memory. */
  zero: unknown;
}

/** A typed array Atomics accepts. */
export type AtomicView = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array;

// Integers of 8 to 32 bits: the language guarantees that a plain aligned write is never
// torn, so a write skips the fence of Atomics.store (a reader under a lock pays nothing);
// reads use Atomics.load, as cheap as a plain read, so a polling loop sees new values.
const direct: Access = {
  atomicView: (cells: TypedArray) => cells as AtomicView,
  load: (view: AtomicView, i: number) => Atomics.load(view as Int32Array, i),
  store: (view: AtomicView, i: number, raw: number | bigint) => {
    (view as Int32Array)[i] = raw as number;
  },
};

// 64-bit integers may tear unless accessed with Atomics.
const big: Access = {
  atomicView: (cells: TypedArray) => cells as AtomicView,
  load: (view: AtomicView, i: number) => Atomics.load(view as BigInt64Array, i),
  store: (view: AtomicView, i: number, raw: number | bigint) => {
    Atomics.store(view as BigInt64Array, i, raw as bigint);
  },
};

// Scratch space to move float bits to and from integers; one per thread.
const scratch = new ArrayBuffer(8);
const f32 = new Float32Array(scratch);
const i32 = new Int32Array(scratch);
const f64 = new Float64Array(scratch);
const i64 = new BigInt64Array(scratch);

const float32Bits: Access = {
  atomicView: (cells: TypedArray) => new Int32Array(cells.buffer, cells.byteOffset, cells.length),
  load(view: AtomicView, i: number): number {
    i32[0] = Atomics.load(view as Int32Array, i);
    return f32[0];
  },
  store(view: AtomicView, i: number, raw: number | bigint): void {
    f32[0] = raw as number;
    Atomics.store(view as Int32Array, i, i32[0]);
  },
};

const float64Bits: Access = {
  atomicView: (cells: TypedArray) => new BigInt64Array(cells.buffer, cells.byteOffset, cells.length),
  load(view: AtomicView, i: number): number {
    i64[0] = Atomics.load(view as BigInt64Array, i);
    return f64[0];
  },
  store(view: AtomicView, i: number, raw: number | bigint): void {
    f64[0] = raw as number;
    Atomics.store(view as BigInt64Array, i, i64[0]);
  },
};

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 20 ? value.slice(0, 20) + "…" : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object" && value !== null) return value.constructor?.name ?? "an object";
  return String(value);
}

function refuse(where: string, expected: string, code: string, value: unknown): never {
  throw new TypeError(`Cannot ${where}: typecode "${code}" takes ${expected}, not ${typeof value} ${show(value)}`);
}

function integer(code: string, name: string, bits: number, signed: boolean, View: ViewClass): Spec {
  const wrap = signed ? BigInt.asIntN : BigInt.asUintN;
  return {
    code,
    name,
    bytes: bits / 8,
    View,
    encode(value, where) {
      if (typeof value === "number" && Number.isInteger(value)) return value;
      if (typeof value === "bigint") return Number(wrap(bits, value));
      return refuse(where, "an integer number", code, value);
    },
    decode: (raw) => raw,
    zero: 0,
    ...direct,
  };
}

function bigInteger(code: string, name: string, signed: boolean): Spec {
  return {
    code,
    name,
    bytes: 8,
    View: signed ? BigInt64Array : BigUint64Array,
    encode(value, where) {
      if (typeof value === "bigint") return value;
      if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
      return refuse(where, "a bigint (or a safe integer number)", code, value);
    },
    decode: (raw) => raw,
    zero: 0n,
    ...big,
  };
}

function float(code: string, name: string, View: ViewClass, bytes: number, bits: Access): Spec {
  return {
    code,
    name,
    bytes,
    View,
    encode(value, where) {
      if (typeof value === "number") return value;
      if (typeof value === "bigint") return Number(value);
      return refuse(where, "a number", code, value);
    },
    decode: (raw) => raw,
    zero: 0,
    ...bits,
  };
}

const CHAR: Spec = {
  code: "c",
  name: "char",
  bytes: 1,
  View: Uint8Array,
  encode(value, where) {
    if (typeof value === "string" && value.length === 1 && value.charCodeAt(0) < 256) return value.charCodeAt(0);
    if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value < 256) return value;
    return refuse(where, "a one-character string of code 0-255 (or an integer 0-255)", "c", value);
  },
  decode: (raw) => String.fromCharCode(raw as number),
  zero: "\0",
  ...direct,
};

const BOOL: Spec = {
  code: "?",
  name: "bool",
  bytes: 1,
  View: Uint8Array,
  encode(value, where) {
    if (typeof value === "boolean") return value ? 1 : 0;
    return refuse(where, "a boolean", "?", value);
  },
  decode: (raw) => raw !== 0,
  zero: false,
  ...direct,
};

const SPECS: readonly Spec[] = [
  integer("b", "int8", 8, true, Int8Array),
  integer("B", "uint8", 8, false, Uint8Array),
  integer("h", "int16", 16, true, Int16Array),
  integer("H", "uint16", 16, false, Uint16Array),
  integer("i", "int32", 32, true, Int32Array),
  integer("I", "uint32", 32, false, Uint32Array),
  bigInteger("q", "int64", true),
  bigInteger("Q", "uint64", false),
  float("f", "float32", Float32Array, 4, float32Bits),
  float("d", "float64", Float64Array, 8, float64Bits),
  CHAR,
  BOOL,
];

const BY_CODE = new Map<string, Spec>();
for (const spec of SPECS) {
  BY_CODE.set(spec.code, spec);
  BY_CODE.set(spec.name, spec);
}
// C long is 64-bit on Linux and macOS, where Python's "l" and "L" are 8 bytes.
BY_CODE.set("l", BY_CODE.get("q")!);
BY_CODE.set("L", BY_CODE.get("Q")!);

/**
 * The spec of `typecode`.
 *
 * @throws {TypeError} when the typecode is unknown, listing the valid ones
 */
export function specOf(typecode: Typecode, what: string): Spec {
  const spec = typeof typecode === "string" ? BY_CODE.get(typecode) : undefined;
  if (spec === undefined) {
    throw new TypeError(
      `Cannot make ${what}: unknown typecode ${show(typecode)}: use one of b B h H i I l L q Q f d c ? `
        + `or int8 uint8 int16 uint16 int32 uint32 int64 uint64 float32 float64 char bool`,
    );
  }
  return spec;
}

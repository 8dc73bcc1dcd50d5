/** Typecodes for 8-, 16- and 32-bit integers, read and written as `number`. */
export type IntTypecode =
  | "b"
  | "B"
  | "h"
  | "H"
  | "i"
  | "I"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32";

/** Typecodes for 64-bit integers, read and written as `bigint` (`l` and `L` are 64-bit, as C `long` on Linux). */
export type BigIntTypecode = "l" | "L" | "q" | "Q" | "int64" | "uint64";

/** Typecodes for floating-point numbers. */
export type FloatTypecode = "f" | "d" | "float32" | "float64";

/** The typecode of one byte, read as a one-character string (Python's `c`, a `bytes` of length 1). */
export type CharTypecode = "c" | "char";

/** The typecode of a boolean stored in one byte. */
export type BoolTypecode = "?" | "bool";

/**
 * A typecode of Python's `array`/`ctypes` (`b B h H i I l L q Q f d c ?`) or its name
 * (`int8 uint8 int16 uint16 int32 uint32 int64 uint64 float32 float64 char bool`).
 *
 * @example Usage
 * ```ts
 * import { Value, type Typecode } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const code: Typecode = "int16";
 * assert.equal(new Value(code, 40000).value, -25536);
 * ```
 */
export type Typecode = IntTypecode | BigIntTypecode | FloatTypecode | CharTypecode | BoolTypecode;

/** What a value of typecode `C` reads as in JavaScript. */
export type ValueOf<C extends Typecode> = C extends BigIntTypecode ? bigint
  : C extends CharTypecode ? string
  : C extends BoolTypecode ? boolean
  : number;

/** The typed array over the memory of typecode `C`: `c` and `?` are bytes. */
export type ViewOf<C extends Typecode> = C extends "b" | "int8" ? Int8Array
  : C extends "B" | "uint8" | CharTypecode | BoolTypecode ? Uint8Array
  : C extends "h" | "int16" ? Int16Array
  : C extends "H" | "uint16" ? Uint16Array
  : C extends "i" | "int32" ? Int32Array
  : C extends "I" | "uint32" ? Uint32Array
  : C extends "l" | "q" | "int64" ? BigInt64Array
  : C extends "L" | "Q" | "uint64" ? BigUint64Array
  : C extends "f" | "float32" ? Float32Array
  : Float64Array;

/**
 * What may be stored under typecode `C`: its {@linkcode ValueOf} type, plus safe integer
 * numbers for 64-bit integers and character codes 0-255 for `c`.
 */
export type InputOf<C extends Typecode> = C extends BigIntTypecode ? bigint | number
  : C extends CharTypecode ? string | number
  : ValueOf<C>;

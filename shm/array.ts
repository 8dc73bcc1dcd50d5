import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import type { Lock } from "../sync/lock.ts";
import type { RLock } from "../sync/rlock.ts";
import { lockFrom, lockState, noLock, reviveLock } from "./_lock_option.ts";
import { type AtomicView, type Spec, specOf, type TypedArray } from "./_typecodes.ts";
import type { InputOf, Typecode, ValueOf, ViewOf } from "./typecode.ts";
import type { ValueOptions } from "./value.ts";

const RAW_KIND = "shm.RawArray";
const KIND = "shm.SharedArray";

interface ArrayState {
  typecode: Typecode;
  buffer: SharedArrayBuffer;
  lock: SharedState | null;
}

// Set only while a shared state is being revived, so the public constructors keep
// Python's arguments.
let adopted: { buffer: SharedArrayBuffer; lock: Lock | RLock | null } | undefined;

let stateOf: (a: RawArray) => ArrayState;

function fill(spec: Spec, values: Iterable<unknown> | ArrayLike<unknown> | string): TypedArray {
  if (ArrayBuffer.isView(values) && !(values instanceof DataView) && spec.code !== "c" && spec.code !== "?") {
    // A typed array is copied in one call when no item could be refused: same number kind,
    // and no fractions into integers.
    const fromBig = values instanceof BigInt64Array || values instanceof BigUint64Array;
    const fromFloat = values instanceof Float32Array || values instanceof Float64Array;
    const toBig = spec.code === "q" || spec.code === "Q";
    const toFloat = spec.code === "f" || spec.code === "d";
    if (fromBig === toBig && (toFloat || !fromFloat)) {
      const source = values as unknown as Int8Array;
      const view = new spec.View(new SharedArrayBuffer(source.length * spec.bytes));
      (view as Int8Array).set(source);
      return view;
    }
  }
  const items = Array.isArray(values) ? values : Array.from(values as Iterable<unknown>);
  // Every item is checked before the memory is filled, so a bad one leaves nothing half-made.
  const raw: (number | bigint)[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      raw.push(spec.encode(items[i], "make shared array"));
    } catch (error) {
      throw new TypeError(`${(error as Error).message} (item ${i})`);
    }
  }
  const view = new spec.View(new SharedArrayBuffer(raw.length * spec.bytes));
  for (let i = 0; i < raw.length; i++) view[i] = raw[i];
  return view;
}

/**
 * A fixed-length array of numbers, bigints, characters or booleans in shared memory,
 * without a lock: Python's `multiprocessing.RawArray`. Indexes may be negative, counting
 * from the end, as in Python. Passed in `args`, it arrives as the same memory. Each `get`
 * and `set` is atomic; `view` is the plain typed array, for bulk work.
 *
 * @typeParam C the typecode
 * @example Usage
 * ```ts
 * import { RawArray } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const a = new RawArray("d", [1.5, 2.5, 3.5]);
 * a.set(-1, 9);
 * assert.deepEqual(a.toArray(), [1.5, 2.5, 9]);
 * assert.deepEqual(a.slice(1), [2.5, 9]);
 * assert.equal(new RawArray("i", 4).length, 4);
 * ```
 */
export class RawArray<C extends Typecode = Typecode> implements Iterable<ValueOf<C>> {
  /** The typecode this array was made with. */
  readonly typecode: C;
  readonly #spec: Spec;
  readonly #cells: TypedArray;
  readonly #atomic: AtomicView;

  /**
   * Make an array in fresh shared memory.
   *
   * @param typecode one of `b B h H i I l L q Q f d c ?` or its name (`int16`, `float64`…)
   * @param sizeOrValues a length (filled with zeros) or the initial items (an iterable, a typed array, or a string for `c`)
   * @throws {TypeError} when the typecode is unknown or an item is not of its type
   * @throws {RangeError} when the length is negative or not an integer
   */
  constructor(typecode: C, sizeOrValues: number | Iterable<InputOf<C>> | ArrayLike<InputOf<C>>) {
    const state = adopted;
    adopted = undefined;
    this.#spec = specOf(typecode, "shared array");
    this.typecode = typecode;
    if (state !== undefined) {
      this.#cells = new this.#spec.View(state.buffer);
    } else if (typeof sizeOrValues === "number") {
      if (!Number.isSafeInteger(sizeOrValues) || sizeOrValues < 0) {
        throw new RangeError(`Cannot make shared array: its length must be an integer >= 0, not ${sizeOrValues}`);
      }
      this.#cells = new this.#spec.View(new SharedArrayBuffer(sizeOrValues * this.#spec.bytes));
    } else if ((sizeOrValues !== null && typeof sizeOrValues === "object") || typeof sizeOrValues === "string") {
      this.#cells = fill(this.#spec, sizeOrValues);
    } else {
      throw new TypeError(`Cannot make shared array: give a length or the initial items, not ${typeof sizeOrValues}`);
    }
    this.#atomic = this.#spec.atomicView(this.#cells);
  }

  /** Number of items. */
  get length(): number {
    return this.#cells.length;
  }

  /**
   * A typed array over the same memory, without any lock: the fast path for bulk work
   * (`view.fill`, `view.set`, loops). Characters and booleans are bytes here.
   */
  get view(): ViewOf<C> {
    return this.#cells as unknown as ViewOf<C>;
  }

  #index(i: number, what: string): number {
    if (!Number.isInteger(i)) throw new TypeError(`Cannot ${what} index ${String(i)}: an index must be an integer`);
    const n = this.#cells.length;
    const at = i < 0 ? i + n : i;
    if (at < 0 || at >= n) {
      throw new RangeError(`Cannot ${what} index ${i} of an array of length ${n}: index out of range`);
    }
    return at;
  }

  /**
   * The item at `i`; negative counts from the end.
   *
   * @throws {RangeError} when `i` is out of range
   * @throws {TypeError} when `i` is not an integer
   */
  get(i: number): ValueOf<C> {
    const spec = this.#spec;
    return spec.decode(spec.load(this.#atomic, this.#index(i, "get"))) as ValueOf<C>;
  }

  /**
   * Store `v` at `i`; negative counts from the end. Integers wrap as in ctypes.
   *
   * @throws {RangeError} when `i` is out of range
   * @throws {TypeError} when `i` is not an integer or `v` is not of the typecode's type
   */
  set(i: number, v: InputOf<C>): void {
    const at = this.#index(i, "set");
    const spec = this.#spec;
    spec.store(this.#atomic, at, spec.encode(v, "set shared array item"));
  }

  /** The items from `start` up to (not including) `end`, as Python's `a[start:end]`: negatives count from the end. */
  slice(start?: number, end?: number): ValueOf<C>[] {
    const part = (this.#cells as Int8Array).subarray(start, end) as ArrayLike<number | bigint>;
    return Array.from(part, this.#spec.decode) as ValueOf<C>[];
  }

  /** Every item, copied into a plain array. */
  toArray(): ValueOf<C>[] {
    return this.slice();
  }

  /** Iterate over the items. */
  *[Symbol.iterator](): Iterator<ValueOf<C>> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  /** A short description, like Python's repr. */
  toString(): string {
    return `${this.constructor.name}(${JSON.stringify(this.typecode)}, ${this.length} items)`;
  }

  /** Describe this array for another thread. */
  [toShared](): SharedState {
    return { kind: RAW_KIND, module: import.meta.url, state: stateOf(this) };
  }

  static {
    stateOf = (a) => ({
      typecode: a.typecode,
      buffer: a.#cells.buffer as SharedArrayBuffer,
      lock: null,
    });
  }
}

/**
 * A {@linkcode RawArray} with a lock, like Python's `multiprocessing.Array` (also exported
 * as `Array`). Hold {@linkcode SharedArray.getLock} around a read-modify-write, as in
 * Python. `slice` and `toArray` take the lock, as Python's `a[:]` does, so they copy a
 * consistent snapshot (with a plain `Lock` as the lock, do not call them while holding it:
 * they would wait for themselves, as in Python). A single `get` or `set` is atomic by
 * itself and does not take the lock. `view` skips the lock: it is the fast path for bulk
 * work on parts that one worker owns.
 *
 * @typeParam C the typecode
 * @example Usage
 * ```ts
 * import { SharedArray } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const a = new SharedArray("i", [1, 2, 3]);
 * {
 *   using _ = a.getLock().holdSync();
 *   a.set(0, a.get(0) + 10);
 * }
 * assert.deepEqual([...a], [11, 2, 3]);
 * a.view.fill(5);
 * assert.equal(a.get(-1), 5);
 * ```
 */
export class SharedArray<C extends Typecode = Typecode> extends RawArray<C> {
  readonly #lock: Lock | RLock | null;

  /**
   * Make an array in fresh shared memory, with a lock.
   *
   * @param typecode one of `b B h H i I l L q Q f d c ?` or its name
   * @param sizeOrValues a length (filled with zeros) or the initial items
   * @param options `lock`: true (a new RLock, the default), an existing lock, or false
   * @throws {TypeError} when the typecode is unknown, an item is not of its type, or `lock` is not a lock
   * @throws {RangeError} when the length is negative or not an integer
   */
  constructor(
    typecode: C,
    sizeOrValues: number | Iterable<InputOf<C>> | ArrayLike<InputOf<C>>,
    options?: ValueOptions,
  ) {
    const lock = adopted !== undefined ? adopted.lock : lockFrom(options?.lock, "shared array");
    super(typecode, sizeOrValues);
    this.#lock = lock;
  }

  /** The items from `start` up to `end`, copied under the lock. */
  override slice(start?: number, end?: number): ValueOf<C>[] {
    const lock = this.#lock;
    if (lock === null) return super.slice(start, end);
    lock.acquireSync();
    try {
      return super.slice(start, end);
    } finally {
      lock.release();
    }
  }

  /**
   * The lock that guards this array.
   *
   * @throws {TypeError} when the array was made with `lock: false`
   */
  getLock(): Lock | RLock {
    if (this.#lock === null) throw noLock("shared array");
    return this.#lock;
  }

  /** Describe this array, with its lock, for another thread. */
  override [toShared](): SharedState {
    return { kind: KIND, module: import.meta.url, state: { ...stateOf(this), lock: lockState(this.#lock) } };
  }
}

export {
  /** Python's name for {@linkcode SharedArray}. */
  SharedArray as Array,
};

registerShareable(RAW_KIND, (state: ArrayState) => {
  adopted = { buffer: state.buffer, lock: null };
  return new RawArray(state.typecode, 0);
});

registerShareable(KIND, (state: ArrayState) => {
  adopted = { buffer: state.buffer, lock: reviveLock(state.lock) };
  return new SharedArray(state.typecode, 0);
});

import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import type { Lock } from "../sync/lock.ts";
import type { RLock } from "../sync/rlock.ts";
import { lockFrom, lockState, noLock, reviveLock } from "./_lock_option.ts";
import { type AtomicView, type Spec, specOf } from "./_typecodes.ts";
import type { InputOf, Typecode, ValueOf } from "./typecode.ts";

/** Options for {@linkcode Value} and {@linkcode SharedArray}. */
export interface ValueOptions {
  /**
   * `true` makes a new {@linkcode RLock}, a `Lock` or `RLock` is used as given (several
   * objects may share one), `false` makes an object without a lock, as Python's `lock=False`.
   * @default {true}
   */
  lock?: boolean | Lock | RLock;
}

const RAW_KIND = "shm.RawValue";
const KIND = "shm.Value";

interface ValueState {
  typecode: Typecode;
  buffer: SharedArrayBuffer;
  lock: SharedState | null;
}

// Set only while a shared state is being revived, so the public constructors keep
// Python's arguments.
let adopted: { buffer: SharedArrayBuffer; lock: Lock | RLock | null } | undefined;

let stateOf: (v: RawValue) => ValueState;

/**
 * One number, bigint, character or boolean in shared memory, without a lock: Python's
 * `multiprocessing.RawValue`. Passed in `args`, it arrives as the same memory. Integers
 * wrap like ctypes; 64-bit integers are bigints. Each read and each write of `value` is
 * atomic (a reader never sees half of a write); `value += 1` is a read then a write, so it
 * needs a lock where threads race.
 *
 * @typeParam C the typecode
 * @example Usage
 * ```ts
 * import { RawValue } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const v = new RawValue("h", 40000);
 * assert.equal(v.value, -25536);
 * v.value = 7;
 * assert.equal(v.value, 7);
 * ```
 */
export class RawValue<C extends Typecode = Typecode> {
  /** The typecode this value was made with. */
  readonly typecode: C;
  readonly #spec: Spec;
  readonly #cell: AtomicView;

  /**
   * Make a value in fresh shared memory.
   *
   * @param typecode one of `b B h H i I l L q Q f d c ?` or its name (`int16`, `float64`…)
   * @param init the first value; zero, `"\0"` or `false` when absent
   * @throws {TypeError} when the typecode is unknown or `init` is not of its type
   */
  constructor(typecode: C, init?: InputOf<C>) {
    const state = adopted;
    adopted = undefined;
    this.#spec = specOf(typecode, "shared value");
    this.typecode = typecode;
    const raw = init === undefined ? undefined : this.#spec.encode(init, "make shared value");
    this.#cell = this.#spec.atomicView(new this.#spec.View(state?.buffer ?? new SharedArrayBuffer(8), 0, 1));
    if (raw !== undefined) this.#spec.store(this.#cell, 0, raw);
  }

  /**
   * The value. Integers wrap as in ctypes: `int16` stores 40000 as -25536.
   *
   * @throws {TypeError} on assignment of a value that is not of the typecode's type
   */
  get value(): ValueOf<C> {
    const spec = this.#spec;
    return spec.decode(spec.load(this.#cell, 0)) as ValueOf<C>;
  }

  set value(v: InputOf<C>) {
    const spec = this.#spec;
    spec.store(this.#cell, 0, spec.encode(v, "set shared value"));
  }

  /** A short description, like Python's repr. */
  toString(): string {
    return `${this.constructor.name}(${JSON.stringify(this.typecode)}, ${String(this.value)})`;
  }

  /** Describe this value for another thread. */
  [toShared](): SharedState {
    return { kind: RAW_KIND, module: import.meta.url, state: stateOf(this) };
  }

  static {
    stateOf = (v) => ({ typecode: v.typecode, buffer: v.#cell.buffer as SharedArrayBuffer, lock: null });
  }
}

/**
 * A {@linkcode RawValue} with a lock, like Python's `multiprocessing.Value`: hold
 * {@linkcode Value.getLock} around a read-modify-write such as `v.value += 1`, as in
 * Python. A single read or write of `value` is atomic by itself and does not take the
 * lock (Python's wrapper takes it for each access to get the same atomicity): so a reader
 * does not wait while another thread holds the lock, and any lock, even a plain `Lock`, may
 * be held while touching `value`.
 *
 * @typeParam C the typecode
 * @example Usage
 * ```ts
 * import { Value } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const counter = new Value("i", 0);
 * {
 *   using _ = counter.getLock().holdSync();
 *   counter.value += 1;
 * }
 * assert.equal(counter.value, 1);
 * assert.equal(new Value("q", 5n).value, 5n);
 * ```
 */
export class Value<C extends Typecode = Typecode> extends RawValue<C> {
  readonly #lock: Lock | RLock | null;

  /**
   * Make a value in fresh shared memory, with a lock.
   *
   * @param typecode one of `b B h H i I l L q Q f d c ?` or its name
   * @param init the first value; zero, `"\0"` or `false` when absent
   * @param options `lock`: true (a new RLock, the default), an existing lock, or false
   * @throws {TypeError} when the typecode is unknown, `init` is not of its type, or `lock` is not a lock
   */
  constructor(typecode: C, init?: InputOf<C>, options?: ValueOptions) {
    const lock = adopted !== undefined ? adopted.lock : lockFrom(options?.lock, "shared value");
    super(typecode, init);
    this.#lock = lock;
  }

  /**
   * The lock that guards this value, to hold around a read-modify-write.
   *
   * @throws {TypeError} when the value was made with `lock: false`
   */
  getLock(): Lock | RLock {
    if (this.#lock === null) throw noLock("shared value");
    return this.#lock;
  }

  /** Describe this value, with its lock, for another thread. */
  override [toShared](): SharedState {
    return { kind: KIND, module: import.meta.url, state: { ...stateOf(this), lock: lockState(this.#lock) } };
  }
}

registerShareable(RAW_KIND, (state: ValueState) => {
  adopted = { buffer: state.buffer, lock: null };
  return new RawValue(state.typecode);
});

registerShareable(KIND, (state: ValueState) => {
  adopted = { buffer: state.buffer, lock: reviveLock(state.lock) };
  return new Value(state.typecode);
});

import { decodeSync, registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { SharedMemory } from "./shared_memory.ts";

/** What a {@linkcode ShareableList} slot holds: Python's int, float, bool, str, bytes and None. */
export type ListItem = number | bigint | boolean | string | Uint8Array | null;

/** Options for {@linkcode ShareableList.create}. */
export interface ShareableListOptions {
  /** Name of the SharedMemory block; a unique `psm_…` name is made when absent. @default {undefined} */
  name?: string;
}

const KIND = "shm.ShareableList";

// Layout of the block, little-endian: a header (magic, item count), one record per slot
// (tag, offset, capacity, length in bytes), then the slots' data, 8-byte aligned. The
// capacity of a slot never changes; its tag changes with what is stored, as Python's
// format does.
const MAGIC = 0x54534c53; // "SLST"
const HEADER = 8;
const RECORD = 16;
const ALIGN = 8;

const NONE = 0;
const INT = 1; // a number that is an integer, stored as int64
const BIGINT = 2;
const FLOAT = 3;
const BOOL = 4;
const STR = 5;
const BYTES = 6;

const FORMATS = ["xxxxxx?x", "q", "q", "d", "xxxxxxx?"];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Encoded {
  tag: number;
  bytes?: Uint8Array;
  number?: number;
  bigint?: bigint;
}

function encode(value: unknown, where: string): Encoded {
  switch (typeof value) {
    case "number":
      return Number.isSafeInteger(value) && !Object.is(value, -0)
        ? { tag: INT, bigint: BigInt(value) }
        : { tag: FLOAT, number: value };
    case "bigint":
      if (BigInt.asIntN(64, value) !== value) {
        throw new RangeError(`Cannot ${where}: ${value}n does not fit in a 64-bit signed integer`);
      }
      return { tag: BIGINT, bigint: value };
    case "boolean":
      return { tag: BOOL, number: value ? 1 : 0 };
    case "string":
      return { tag: STR, bytes: encoder.encode(value) };
  }
  if (value === null) return { tag: NONE };
  if (value instanceof Uint8Array) return { tag: BYTES, bytes: value };
  throw new TypeError(
    `Cannot ${where}: a slot holds a number, bigint, boolean, string, Uint8Array or null, not ${
      value === undefined ? "undefined" : (value as object).constructor?.name ?? typeof value
    }`,
  );
}

/** Python's rule: room for the bytes plus at least one, in whole 8-byte words. */
function capacityFor(e: Encoded): number {
  return e.bytes === undefined ? ALIGN : ALIGN * (Math.floor(e.bytes.length / ALIGN) + 1);
}

function same(a: ListItem, b: unknown): boolean {
  if ((typeof a === "number" || typeof a === "bigint") && (typeof b === "number" || typeof b === "bigint")) {
    // deno-lint-ignore eqeqeq
    return a == b;
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  return a === b;
}

/**
 * A fixed-length list in a {@linkcode SharedMemory} block, like Python's
 * `multiprocessing.shared_memory.ShareableList`: any thread that knows the name attaches
 * and sees the same slots. Slots hold numbers, bigints (64-bit), booleans, strings,
 * `Uint8Array` bytes and `null`; a string or bytes slot keeps the room it was created with
 * (its UTF-8 length rounded up to the next multiple of 8, as in Python), so a longer one
 * is refused. Reads and writes take no lock: guard them with a Lock where threads race.
 *
 * @example Usage
 * ```ts
 * import { ShareableList } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const list = ShareableList.create([1, 2.5, "abc", null, true]);
 * const other = ShareableList.attachSync(list.shm.name);
 * other.set(2, "xyz");
 * assert.equal(list.get(2), "xyz");
 * assert.equal(list.format, "qd8sxxxxxx?xxxxxxxx?");
 * assert.deepEqual([...list], [1, 2.5, "xyz", null, true]);
 * other.shm.close();
 * list.shm.close();
 * list.shm.unlink();
 * ```
 */
export class ShareableList implements Iterable<ListItem> {
  readonly #shm: SharedMemory;
  readonly #length: number;

  private constructor(shm: SharedMemory) {
    const view = new DataView(shm.buf.buffer, shm.buf.byteOffset, shm.buf.byteLength);
    if (shm.size < HEADER || view.getUint32(0, true) !== MAGIC) {
      shm.close();
      throw new TypeError(`Cannot open shared memory "${shm.name}" as a ShareableList: it holds something else`);
    }
    this.#shm = shm;
    this.#length = view.getUint32(4, true);
  }

  /**
   * Create a list in a new SharedMemory block.
   *
   * @param values the items; their number and each string's or bytes' room are fixed from now on
   * @param options `name` of the block
   * @throws {TypeError} when an item is not a number, bigint, boolean, string, Uint8Array or null
   * @throws {RangeError} when a bigint does not fit in 64 bits
   * @throws {FileExistsError} when a block of that name exists
   */
  static create(values: Iterable<ListItem>, options?: ShareableListOptions): ShareableList {
    const items = Array.from(values, (v, i) => encode(v, `create ShareableList: item ${i}`));
    const records = HEADER + items.length * RECORD;
    let end = Math.ceil(records / ALIGN) * ALIGN;
    const offsets = items.map((e) => {
      const at = end;
      end += capacityFor(e);
      return at;
    });
    const shm = SharedMemory.create({ name: options?.name, size: end });
    const view = new DataView(shm.buf.buffer, shm.buf.byteOffset, shm.buf.byteLength);
    view.setUint32(4, items.length, true);
    items.forEach((e, i) => {
      const r = HEADER + i * RECORD;
      view.setUint32(r + 4, offsets[i], true);
      view.setUint32(r + 8, capacityFor(e), true);
      write(shm.buf, view, r, e);
    });
    view.setUint32(0, MAGIC, true);
    return new ShareableList(shm);
  }

  /**
   * Attach to the list in the block named `name` without blocking this thread.
   *
   * @throws {FileNotFoundError} when no block has that name
   * @throws {TypeError} when the block does not hold a ShareableList
   */
  static async attach(name: string): Promise<ShareableList> {
    return new ShareableList(await SharedMemory.attach(name));
  }

  /**
   * Attach to the list in the block named `name`.
   *
   * @throws {FileNotFoundError} when no block has that name
   * @throws {TypeError} when the block does not hold a ShareableList
   */
  static attachSync(name: string): ShareableList {
    return new ShareableList(SharedMemory.attachSync(name));
  }

  /** The SharedMemory block the list lives in: close and unlink it there. */
  get shm(): SharedMemory {
    return this.#shm;
  }

  /** Number of slots; fixed at creation. */
  get length(): number {
    return this.#length;
  }

  /** Python's struct format of the slots as they are now, e.g. `"qd8s"`. */
  get format(): string {
    const view = this.#view();
    let out = "";
    for (let i = 0; i < this.#length; i++) {
      const r = HEADER + i * RECORD;
      const tag = view.getUint32(r, true);
      out += tag === STR || tag === BYTES ? `${view.getUint32(r + 8, true)}s` : FORMATS[tag];
    }
    return out;
  }

  #view(): DataView {
    const buf = this.#shm.buf;
    return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  #record(i: number, what: string): number {
    if (!Number.isInteger(i)) throw new TypeError(`Cannot ${what} index ${String(i)}: an index must be an integer`);
    const at = i < 0 ? i + this.#length : i;
    if (at < 0 || at >= this.#length) {
      throw new RangeError(
        `Cannot ${what} index ${i} of a ShareableList of length ${this.#length}: index out of range`,
      );
    }
    return HEADER + at * RECORD;
  }

  /**
   * The item at `i`; negative counts from the end. Bytes come back as a copy.
   *
   * @throws {RangeError} when `i` is out of range
   * @throws {InvalidStateError} when the list's SharedMemory handle is closed
   */
  get(i: number): ListItem {
    const r = this.#record(i, "get");
    return read(this.#shm.buf, this.#view(), r);
  }

  /**
   * Store `v` at `i`; negative counts from the end.
   *
   * @throws {RangeError} when `i` is out of range, or a string or bytes is longer than the slot's room (the slot is unchanged)
   * @throws {TypeError} when `v` is not a number, bigint, boolean, string, Uint8Array or null
   */
  set(i: number, v: ListItem): void {
    const r = this.#record(i, "set");
    const e = encode(v, `set index ${i} of ShareableList`);
    const view = this.#view();
    const room = view.getUint32(r + 8, true);
    if (e.bytes !== undefined && e.bytes.length > room) {
      throw new RangeError(
        `Cannot set index ${i} of ShareableList: the ${
          e.tag === STR ? "string" : "bytes"
        } is ${e.bytes.length} bytes long and the slot holds at most ${room}`,
      );
    }
    write(this.#shm.buf, view, r, e);
  }

  /** How many items equal `v` (numbers and bigints compare by value, bytes by content). */
  count(v: ListItem): number {
    let n = 0;
    for (const item of this) if (same(item, v)) n++;
    return n;
  }

  /**
   * The index of the first item equal to `v`.
   *
   * @throws {RangeError} when no item equals `v`
   */
  index(v: ListItem): number {
    let i = 0;
    for (const item of this) {
      if (same(item, v)) return i;
      i++;
    }
    throw new RangeError(`Cannot find ${typeof v === "string" ? JSON.stringify(v) : String(v)} in the ShareableList`);
  }

  /** Iterate over the items. */
  *[Symbol.iterator](): Iterator<ListItem> {
    for (let i = 0; i < this.#length; i++) yield this.get(i);
  }

  /** Every item, copied into a plain array. */
  toArray(): ListItem[] {
    return [...this];
  }

  /** Close this list's SharedMemory handle (`using list = ShareableList.create(...)`). */
  [Symbol.dispose](): void {
    this.#shm.close();
  }

  /** A short description, like Python's repr. */
  toString(): string {
    return `ShareableList(${JSON.stringify(this.#shm.name)}, ${this.#length} items)`;
  }

  /** Describe this list for another thread, which gets a handle of its own on the same block. */
  [toShared](): SharedState {
    return { kind: KIND, module: import.meta.url, state: this.#shm[toShared]() };
  }

  static {
    registerShareable(KIND, (state: SharedState) => {
      return new ShareableList(decodeSync({ value: null, refs: [{ path: [], shared: state }] }) as SharedMemory);
    });
  }
}

// The data first, the tag last, so a reader that sees the new tag sees the new data.
function write(buf: Uint8Array, view: DataView, r: number, e: Encoded): void {
  const at = view.getUint32(r + 4, true);
  if (e.bytes !== undefined) {
    buf.set(e.bytes, at);
    view.setUint32(r + 12, e.bytes.length, true);
  } else if (e.bigint !== undefined) {
    view.setBigInt64(at, e.bigint, true);
  } else if (e.tag === FLOAT) {
    view.setFloat64(at, e.number!, true);
  } else {
    view.setBigInt64(at, BigInt(e.number ?? 0), true);
  }
  view.setUint32(r, e.tag, true);
}

function read(buf: Uint8Array, view: DataView, r: number): ListItem {
  const at = view.getUint32(r + 4, true);
  switch (view.getUint32(r, true)) {
    case INT:
      return Number(view.getBigInt64(at, true));
    case BIGINT:
      return view.getBigInt64(at, true);
    case FLOAT:
      return view.getFloat64(at, true);
    case BOOL:
      return view.getBigInt64(at, true) !== 0n;
    case STR:
      return decoder.decode(buf.slice(at, at + view.getUint32(r + 12, true)));
    case BYTES:
      return buf.slice(at, at + view.getUint32(r + 12, true));
    default:
      return null;
  }
}

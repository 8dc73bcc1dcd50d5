// The objects a manager holds, as Python's manager holds a dict, a list, a queue.Queue or
// a threading.Lock in its server process. They live in the server thread only, so each is
// plain code over plain data: a blocking method keeps its call open in a wait list and
// answers it when another client's call (a put, a release, a set) lets it through, or when
// its timer runs out. Locks are owned by a client connection, as a Python manager's locks
// are owned by the server thread serving that connection.
import { checkTimeout } from "../_internal/deadline.ts";
import { BrokenBarrierError, EmptyError, FullError, InvalidStateError } from "../errors.ts";
import type { Call, Peer, PENDING } from "./_manager_call.ts";

/** What a served method returns: a value for the caller, or {@linkcode PENDING}; void methods answer undefined. */
// deno-lint-ignore no-explicit-any
type Answer = any;

// Work that finishes on the event loop rather than on a request: wait timers and the
// promises of async methods. While there is any, the server sleeps in short slices so it
// fires on time; otherwise it may sleep longer.
let pendingOnLoop = 0;

/** How many timers and async results the served objects wait for. */
export function waitingOnLoop(): number {
  return pendingOnLoop;
}

type Timer = ReturnType<typeof setTimeout> | undefined;

function startTimer(fn: () => void, ms: number): Timer {
  pendingOnLoop++;
  return setTimeout(() => {
    pendingOnLoop--;
    fn();
  }, ms);
}

function stopTimer(t: Timer): void {
  if (t === undefined) return;
  clearTimeout(t);
  pendingOnLoop--;
}

/** Count `promise` as pending on the event loop until it settles. */
export function onLoop<T>(promise: Promise<T>): Promise<T> {
  pendingOnLoop++;
  const done = () => void pendingOnLoop--;
  promise.then(done, done);
  return promise;
}

/**
 * A reference, held in the server, to another object of the same manager. It keeps its
 * target alive while some served object holds it (a dict of lists), even after every
 * proxy of the target was released; sending it out again makes a proxy of the same object.
 */
export class Ref {
  constructor(
    readonly typeid: string,
    readonly id: number,
    readonly methods: string[] | null,
    readonly target: Served,
  ) {}
}

/** Base of every served object: which methods a client may call. */
export abstract class Served {
  /** Set by the server when the object is registered. */
  ref: Ref | null = null;
  abstract readonly typeid: string;
  abstract exposed(): readonly string[];

  /**
   * Run `method` for `call`.
   *
   * @throws {TypeError} when the method is not exposed
   */
  dispatch(call: Call, method: string, args: unknown[]): Answer {
    if (!exposedSet(this.exposed()).has(method)) {
      throw new TypeError(`Cannot call ${method}() on a managed ${this.typeid}: it has no such method`);
    }
    return (this as unknown as Record<string, (call: Call, ...args: unknown[]) => Answer>)[method](call, ...args);
  }
}

// A method name is checked on every call: a set per exposed list, not a scan of it.
const exposedSets = new WeakMap<readonly string[], Set<string>>();

function exposedSet(names: readonly string[]): Set<string> {
  let set = exposedSets.get(names);
  if (set === undefined) exposedSets.set(names, set = new Set(names));
  return set;
}

interface WaitOptions {
  blocking?: boolean;
  timeout?: number;
}

function timeoutOf(options: WaitOptions | number | undefined | null, what: string): number | undefined {
  if (typeof options === "number" || options === undefined || options === null) {
    const t = options ?? undefined;
    checkTimeout(t, what);
    return t;
  }
  checkTimeout(options.timeout, what);
  return options.blocking === false ? 0 : options.timeout;
}

/** A call parked in a wait list, with its timer. */
class Waiter<T> {
  timer: Timer;
  constructor(readonly call: Call, readonly data: T) {}
}

/** Calls waiting their turn, first come first served, each with an optional time limit. */
class WaitList<T = undefined> {
  readonly #items = new Set<Waiter<T>>();

  get size(): number {
    return this.#items.size;
  }

  /**
   * Park `call`. After `timeout` ms it leaves the list and `onTimeout` answers it; if the
   * client cancels, `onCancel` (when given) runs after it left the list.
   */
  park(
    call: Call,
    data: T,
    timeout: number | undefined,
    onTimeout: (w: Waiter<T>) => void,
    onCancel?: (w: Waiter<T>, gone: boolean) => void,
  ): typeof PENDING {
    const w = new Waiter(call, data);
    this.#items.add(w);
    if (timeout !== undefined && timeout !== Infinity) {
      w.timer = startTimer(() => {
        w.timer = undefined;
        this.#items.delete(w);
        onTimeout(w);
      }, timeout);
    }
    return call.keep((gone) => {
      this.remove(w);
      onCancel?.(w, gone);
    });
  }

  /** Take the first waiter out, timer cleared. */
  shift(): Waiter<T> | undefined {
    for (const w of this.#items) {
      this.remove(w);
      return w;
    }
    return undefined;
  }

  remove(w: Waiter<T>): void {
    this.#items.delete(w);
    stopTimer(w.timer);
    w.timer = undefined;
  }

  /** Take every waiter out. */
  drain(): Waiter<T>[] {
    const all = [...this.#items];
    for (const w of all) this.remove(w);
    return all;
  }
}

// --- plain data ---------------------------------------------------------------------

function checkKey(key: unknown): void {
  const t = typeof key;
  if (key === null || t === "string" || t === "number" || t === "boolean" || t === "bigint" || t === "undefined") {
    return;
  }
  throw new TypeError(
    `Cannot use a ${
      key instanceof Ref ? "proxy" : t
    } as a managed dict key: keys must be strings, numbers, bigints, booleans or null, compared by value`,
  );
}

/** Equality as Python's `==` sees plain data: by value, all the way down. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b || (typeof a === "number" && typeof b === "number" && a !== a && b !== b)) return a === b;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Ref || b instanceof Ref) return a instanceof Ref && b instanceof Ref && a.id === b.id;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (a instanceof Map) {
    return b instanceof Map && a.size === b.size && [...a].every(([k, v]) => b.has(k) && sameValue(v, b.get(k)));
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length
    && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function entriesOf(init: unknown, what: string): Iterable<[unknown, unknown]> {
  if (init === undefined || init === null) return [];
  if (init instanceof Map) return init;
  if (Array.isArray(init)) {
    for (const e of init) {
      if (!Array.isArray(e) || e.length !== 2) {
        throw new TypeError(`Cannot ${what}: a list must hold [key, value] pairs`);
      }
    }
    return init as [unknown, unknown][];
  }
  if (typeof init === "object") return Object.entries(init);
  throw new TypeError(`Cannot ${what}: expected a Map, a plain object or [key, value] pairs, got ${typeof init}`);
}

/** Python's `dict`, over a Map. */
export class DictObject extends Served {
  readonly typeid = "dict";
  readonly map: Map<unknown, unknown>;
  static readonly EXPOSED = [
    "get",
    "set",
    "has",
    "delete",
    "keys",
    "values",
    "items",
    "size",
    "update",
    "pop",
    "setDefault",
    "clear",
    "copy",
  ];
  constructor(map: Map<unknown, unknown>) {
    super();
    this.map = map;
  }
  exposed(): readonly string[] {
    return DictObject.EXPOSED;
  }
  static from(init: unknown): DictObject {
    const d = new DictObject(new Map());
    d.update(null as never, init);
    return d;
  }
  get(_: Call, key: unknown, fallback?: unknown): Answer {
    checkKey(key);
    return this.map.has(key) ? this.map.get(key) : fallback;
  }
  set(_: Call, key: unknown, value: unknown): Answer {
    checkKey(key);
    this.map.set(key, value);
  }
  has(_: Call, key: unknown): Answer {
    checkKey(key);
    return this.map.has(key);
  }
  delete(_: Call, key: unknown): Answer {
    checkKey(key);
    return this.map.delete(key);
  }
  keys(): Answer {
    return [...this.map.keys()];
  }
  values(): Answer {
    return [...this.map.values()];
  }
  items(): Answer {
    return [...this.map.entries()];
  }
  size(): Answer {
    return this.map.size;
  }
  update(_: Call, other: unknown): Answer {
    for (const [k, v] of entriesOf(other, "update a managed dict")) {
      checkKey(k);
      this.map.set(k, v);
    }
  }
  pop(_: Call, key: unknown, ...fallback: unknown[]): Answer {
    checkKey(key);
    if (this.map.has(key)) {
      const v = this.map.get(key);
      this.map.delete(key);
      return v;
    }
    if (fallback.length > 0) return fallback[0];
    throw new RangeError(`Cannot pop key ${JSON.stringify(String(key))}: it is not in the dict`);
  }
  setDefault(_: Call, key: unknown, fallback?: unknown): Answer {
    checkKey(key);
    if (!this.map.has(key)) this.map.set(key, fallback);
    return this.map.get(key);
  }
  clear(): Answer {
    this.map.clear();
  }
  copy(): Answer {
    return new Map(this.map);
  }
}

function indexIn(length: number, i: unknown, what: string, end = false): number {
  if (typeof i !== "number" || !Number.isInteger(i)) {
    throw new TypeError(`Cannot ${what}: the index must be an integer, got ${String(i)}`);
  }
  const at = i < 0 ? i + length : i;
  if (end ? at < 0 || at > length : at < 0 || at >= length) {
    throw new RangeError(`Cannot ${what}: index ${i} is out of range for length ${length}`);
  }
  return at;
}

function clampSlice(length: number, start: unknown, stop: unknown): [number, number] {
  const norm = (v: unknown, d: number) => {
    if (v === undefined || v === null) return d;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw new TypeError(`Cannot slice: bounds must be integers, got ${String(v)}`);
    }
    return v < 0 ? Math.max(0, v + length) : Math.min(v, length);
  };
  return [norm(start, 0), norm(stop, length)];
}

function compare(a: unknown, b: unknown): number {
  const ta = typeof a, tb = typeof b;
  const num = (t: string) => t === "number" || t === "bigint" || t === "boolean";
  if (!(num(ta) && num(tb)) && !(ta === "string" && tb === "string")) {
    throw new TypeError(`Cannot sort a managed list: cannot compare a ${ta} with a ${tb}`);
  }
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/** Python's `list`. */
export class ListObject extends Served {
  readonly typeid = "list";
  readonly items: unknown[];
  static readonly EXPOSED = [
    "get",
    "set",
    "append",
    "extend",
    "insert",
    "pop",
    "remove",
    "index",
    "count",
    "length",
    "slice",
    "reverse",
    "sort",
    "toArray",
  ];
  constructor(items: unknown[]) {
    super();
    this.items = items;
  }
  exposed(): readonly string[] {
    return ListObject.EXPOSED;
  }
  get(_: Call, i: unknown): Answer {
    return this.items[indexIn(this.items.length, i, "get a list item")];
  }
  set(_: Call, i: unknown, value: unknown): Answer {
    this.items[indexIn(this.items.length, i, "set a list item")] = value;
  }
  append(_: Call, value: unknown): Answer {
    this.items.push(value);
  }
  extend(_: Call, values: unknown): Answer {
    if (!Array.isArray(values)) throw new TypeError("Cannot extend a managed list: the values must be an array");
    for (const v of values) this.items.push(v);
  }
  insert(_: Call, i: unknown, value: unknown): Answer {
    const n = this.items.length;
    if (typeof i !== "number" || !Number.isInteger(i)) {
      throw new TypeError(`Cannot insert into a list: the index must be an integer, got ${String(i)}`);
    }
    this.items.splice(i < 0 ? Math.max(0, i + n) : Math.min(i, n), 0, value);
  }
  pop(_: Call, i: unknown = -1): Answer {
    if (this.items.length === 0) throw new RangeError("Cannot pop from a list: it is empty");
    return this.items.splice(indexIn(this.items.length, i, "pop a list item"), 1)[0];
  }
  remove(_: Call, value: unknown): Answer {
    const at = this.items.findIndex((x) => sameValue(x, value));
    if (at < 0) throw new RangeError("Cannot remove a value from a list: it is not in the list");
    this.items.splice(at, 1);
  }
  index(_: Call, value: unknown, start?: unknown, stop?: unknown): Answer {
    const [s, e] = clampSlice(this.items.length, start, stop);
    for (let i = s; i < e; i++) if (sameValue(this.items[i], value)) return i;
    throw new RangeError("Cannot find the index of a value: it is not in the list");
  }
  count(_: Call, value: unknown): Answer {
    return this.items.filter((x) => sameValue(x, value)).length;
  }
  length(): Answer {
    return this.items.length;
  }
  slice(_: Call, start?: unknown, stop?: unknown): Answer {
    const [s, e] = clampSlice(this.items.length, start, stop);
    return this.items.slice(s, e);
  }
  reverse(): Answer {
    this.items.reverse();
  }
  sort(_: Call, options?: { reverse?: boolean }): Answer {
    const sorted = [...this.items].sort(compare);
    if (options?.reverse) sorted.reverse();
    this.items.splice(0, this.items.length, ...sorted);
  }
  toArray(): Answer {
    return [...this.items];
  }
}

/** Python's `Namespace`: named attributes. */
export class NamespaceObject extends Served {
  readonly typeid = "Namespace";
  readonly attrs = new Map<string, unknown>();
  static readonly EXPOSED = ["get", "set", "delete", "has", "toObject"];
  exposed(): readonly string[] {
    return NamespaceObject.EXPOSED;
  }
  #name(name: unknown): string {
    if (typeof name !== "string") throw new TypeError(`Cannot use a ${typeof name} as a namespace attribute name`);
    return name;
  }
  get(_: Call, name: unknown): Answer {
    return this.attrs.get(this.#name(name));
  }
  set(_: Call, name: unknown, value: unknown): Answer {
    this.attrs.set(this.#name(name), value);
  }
  delete(_: Call, name: unknown): Answer {
    return this.attrs.delete(this.#name(name));
  }
  has(_: Call, name: unknown): Answer {
    return this.attrs.has(this.#name(name));
  }
  toObject(): Answer {
    return Object.fromEntries(this.attrs);
  }
}

/** Python's manager `Value`: one value and its typecode, not coerced (as in Python). */
export class ValueObject extends Served {
  readonly typeid = "Value";
  static readonly EXPOSED = ["get", "set", "typecode"];
  constructor(readonly code: string, public value: unknown) {
    super();
  }
  exposed(): readonly string[] {
    return ValueObject.EXPOSED;
  }
  get(): Answer {
    return this.value;
  }
  set(_: Call, value: unknown): Answer {
    this.value = value;
  }
  typecode(): Answer {
    return this.code;
  }
}

type Typed =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

const TYPECODES: Record<string, new(n: number) => Typed> = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  f: Float32Array,
  d: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** Python's manager `Array` (an `array.array`): numbers of one typecode, wrapping like C. */
export class ArrayObject extends Served {
  readonly typeid = "Array";
  readonly data: Typed;
  static readonly EXPOSED = ["get", "set", "length", "toArray", "slice", "typecode"];
  constructor(readonly code: string, values: unknown) {
    super();
    const Ctor = TYPECODES[code];
    if (Ctor === undefined) {
      throw new RangeError(
        `Cannot make a managed Array with typecode ${JSON.stringify(code)}: use one of ${
          Object.keys(TYPECODES).join(" ")
        }`,
      );
    }
    const list = typeof values === "number" ? new Array(values).fill(0) : values;
    if (!Array.isArray(list) && !ArrayBuffer.isView(list)) {
      throw new TypeError("Cannot make a managed Array: give a length or an array of numbers");
    }
    const items = [...(list as ArrayLike<unknown> & Iterable<unknown>)];
    this.data = new Ctor(items.length);
    items.forEach((v, i) => this.#store(i, v));
  }
  exposed(): readonly string[] {
    return ArrayObject.EXPOSED;
  }
  #store(i: number, v: unknown): void {
    const big = this.data instanceof BigInt64Array || this.data instanceof BigUint64Array;
    if (big) {
      (this.data as BigInt64Array)[i] = typeof v === "bigint" ? v : BigInt(v as number);
    } else {
      if (typeof v !== "number") throw new TypeError(`Cannot store a ${typeof v} in an Array of "${this.code}"`);
      (this.data as Float64Array)[i] = v;
    }
  }
  get(_: Call, i: unknown): Answer {
    return this.data[indexIn(this.data.length, i, "get an array item")];
  }
  set(_: Call, i: unknown, value: unknown): Answer {
    this.#store(indexIn(this.data.length, i, "set an array item"), value);
  }
  length(): Answer {
    return this.data.length;
  }
  toArray(): Answer {
    return [...this.data];
  }
  slice(_: Call, start?: unknown, stop?: unknown): Answer {
    const [s, e] = clampSlice(this.data.length, start, stop);
    return [...this.data.subarray(s, e)];
  }
  typecode(): Answer {
    return this.code;
  }
}

// --- queues ---------------------------------------------------------------------------

/** Python's `queue.Queue`, FIFO with an optional bound. */
export class QueueObject extends Served {
  readonly typeid: string = "Queue";
  readonly #items: unknown[] = [];
  #head = 0;
  readonly #maxsize: number;
  readonly #getters = new WaitList<boolean>();
  readonly #putters = new WaitList<unknown>();
  #closed = false;
  static readonly EXPOSED = [
    "put",
    "putNowait",
    "get",
    "getNowait",
    "next",
    "qsize",
    "empty",
    "full",
    "close",
    "closed",
  ];

  constructor(maxsize: unknown = 0) {
    super();
    if (typeof maxsize !== "number" || !Number.isInteger(maxsize)) {
      throw new TypeError(`Cannot make a managed Queue: maxsize must be an integer, got ${String(maxsize)}`);
    }
    this.#maxsize = maxsize;
  }
  exposed(): readonly string[] {
    return QueueObject.EXPOSED;
  }
  get #size(): number {
    return this.#items.length - this.#head;
  }
  #isFull(): boolean {
    return this.#maxsize > 0 && this.#size >= this.#maxsize;
  }
  #shift(): unknown {
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }
  /** An item entered the queue (JoinableQueue counts it). */
  protected added(): void {}

  put(call: Call, item: unknown, options?: WaitOptions): Answer {
    const timeout = timeoutOf(options, "put an item in a queue");
    if (this.#closed) throw new InvalidStateError("Cannot put an item in the queue: it is closed");
    const getter = this.#getters.shift();
    if (getter !== undefined) {
      this.added();
      getter.call.reply(getter.data ? { done: false, value: item } : item);
      return;
    }
    if (!this.#isFull()) {
      this.#items.push(item);
      this.added();
      return;
    }
    if (timeout === 0) throw new FullError("Cannot put an item in the queue: it is full", item);
    return this.#putters.park(call, item, timeout, (w) => {
      w.call.fail(new FullError(`Cannot put an item in the queue: it stayed full for ${timeout} ms`, item));
    });
  }
  putNowait(call: Call, item: unknown): Answer {
    return this.put(call, item, { blocking: false });
  }
  get(call: Call, options?: WaitOptions): Answer {
    return this.#take(call, timeoutOf(options, "get an item from a queue"), false);
  }
  /** The next item for `for await`: `{ done: true }` once the queue is closed and empty. */
  next(call: Call): Answer {
    return this.#take(call, undefined, true);
  }
  #take(call: Call, timeout: number | undefined, iterating: boolean): Answer {
    if (this.#size > 0) {
      const item = this.#shift();
      const putter = this.#putters.shift();
      if (putter !== undefined) {
        this.#items.push(putter.data);
        this.added();
        putter.call.reply(undefined);
      }
      return iterating ? { done: false, value: item } : item;
    }
    if (this.#closed) {
      if (iterating) return { done: true };
      throw new InvalidStateError("Cannot get an item from the queue: it is closed and empty");
    }
    if (timeout === 0) throw new EmptyError("Cannot get an item from the queue: it is empty");
    return this.#getters.park(call, iterating, timeout, (w) => {
      w.call.fail(new EmptyError(`Cannot get an item from the queue: it stayed empty for ${timeout} ms`));
    });
  }
  /** Close for every client: puts fail, gets take what is left and then fail. */
  close(): Answer {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#getters.drain()) {
      if (w.data) w.call.reply({ done: true });
      else w.call.fail(new InvalidStateError("Cannot get an item from the queue: it was closed"));
    }
    for (const w of this.#putters.drain()) {
      w.call.fail(new InvalidStateError("Cannot put an item in the queue: it was closed"));
    }
  }
  closed(): Answer {
    return this.#closed;
  }
  getNowait(call: Call): Answer {
    return this.get(call, { blocking: false });
  }
  qsize(): Answer {
    return this.#size;
  }
  empty(): Answer {
    return this.#size === 0;
  }
  full(): Answer {
    return this.#isFull();
  }
}

/** Python's `queue.Queue` with `task_done()` and `join()`. */
export class JoinableQueueObject extends QueueObject {
  override readonly typeid = "JoinableQueue";
  #unfinished = 0;
  readonly #joiners = new WaitList();
  static override readonly EXPOSED = [...QueueObject.EXPOSED, "taskDone", "join"];
  override exposed(): readonly string[] {
    return JoinableQueueObject.EXPOSED;
  }
  protected override added(): void {
    this.#unfinished++;
  }
  taskDone(): Answer {
    if (this.#unfinished <= 0) {
      throw new InvalidStateError("Cannot mark a task done: taskDone() was called more times than items were put");
    }
    if (--this.#unfinished === 0) { for (const w of this.#joiners.drain()) w.call.reply(undefined); }
  }
  join(call: Call): Answer {
    if (this.#unfinished === 0) return;
    return this.#joiners.park(call, undefined, undefined, () => {});
  }
}

// --- locks ----------------------------------------------------------------------------

interface Grant {
  peer: Peer;
  count: number;
  granted: () => void;
}

/** The owner and queue of a lock; recursive for RLock. */
class LockCore {
  owner: Peer | null = null;
  count = 0;
  readonly #queue = new Set<Grant>();
  constructor(readonly recursive: boolean) {}

  tryTake(peer: Peer): boolean {
    if (this.count === 0) {
      this.owner = peer;
      this.count = 1;
      return true;
    }
    if (this.recursive && this.owner === peer) {
      this.count++;
      return true;
    }
    return false;
  }

  /** Queue `peer` for the lock, taking it with `count` holds when its turn comes. */
  enqueue(peer: Peer, count: number, granted: () => void): Grant {
    const g = { peer, count, granted };
    this.#queue.add(g);
    return g;
  }

  leave(g: Grant): void {
    this.#queue.delete(g);
  }

  /** Free the lock entirely and hand it to the first in line. */
  passOn(): void {
    this.owner = null;
    this.count = 0;
    for (const g of this.#queue) {
      this.#queue.delete(g);
      if (g.peer.closed) continue;
      this.owner = g.peer;
      this.count = g.count;
      g.granted();
      return;
    }
  }

  isOwned(peer: Peer): boolean {
    return this.count > 0 && (!this.recursive || this.owner === peer);
  }
}

/** Python's `threading.Lock` and `threading.RLock`. */
export class LockObject extends Served {
  readonly typeid: string;
  readonly core: LockCore;
  static readonly EXPOSED = ["acquire", "release", "locked"];
  constructor(recursive: boolean) {
    super();
    this.typeid = recursive ? "RLock" : "Lock";
    this.core = new LockCore(recursive);
  }
  exposed(): readonly string[] {
    return LockObject.EXPOSED;
  }
  acquire(call: Call, options?: WaitOptions): Answer {
    const timeout = timeoutOf(options, "acquire a lock");
    if (this.core.tryTake(call.peer)) return true;
    if (timeout === 0) return false;
    let timer: Timer;
    const stop = () => {
      stopTimer(timer);
      timer = undefined;
    };
    const g = this.core.enqueue(call.peer, 1, () => {
      stop();
      call.reply(true);
    });
    if (timeout !== undefined && timeout !== Infinity) {
      timer = startTimer(() => {
        timer = undefined;
        this.core.leave(g);
        call.reply(false);
      }, timeout);
    }
    return call.keep(() => {
      stop();
      this.core.leave(g);
    });
  }
  release(call: Call): Answer {
    const core = this.core;
    if (core.count === 0) throw new InvalidStateError(`Cannot release ${this.typeid}: it is not locked`);
    if (core.recursive) {
      if (core.owner !== call.peer) {
        throw new InvalidStateError("Cannot release RLock: it is held by another client of the manager");
      }
      if (--core.count > 0) return;
    }
    core.passOn();
  }
  locked(): Answer {
    return this.core.count > 0;
  }
}

/** Python's `threading.Semaphore` and `threading.BoundedSemaphore`. */
export class SemaphoreObject extends Served {
  readonly typeid: string;
  #value: number;
  readonly #initial: number;
  readonly #bounded: boolean;
  readonly #waiters = new WaitList();
  static readonly EXPOSED = ["acquire", "release", "getValue"];
  constructor(value: unknown, bounded: boolean) {
    super();
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new RangeError(`Cannot make a managed Semaphore: the value must be an integer >= 0, got ${String(value)}`);
    }
    this.typeid = bounded ? "BoundedSemaphore" : "Semaphore";
    this.#value = this.#initial = value;
    this.#bounded = bounded;
  }
  exposed(): readonly string[] {
    return SemaphoreObject.EXPOSED;
  }
  acquire(call: Call, options?: WaitOptions): Answer {
    const timeout = timeoutOf(options, "acquire a semaphore");
    if (this.#value > 0) {
      this.#value--;
      return true;
    }
    if (timeout === 0) return false;
    return this.#waiters.park(call, undefined, timeout, (w) => w.call.reply(false));
  }
  release(_: Call, n: unknown = 1): Answer {
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot release a semaphore: n must be an integer >= 1, got ${String(n)}`);
    }
    if (this.#bounded && this.#value + n > this.#initial) {
      throw new RangeError("Cannot release a BoundedSemaphore: it was released too many times");
    }
    this.#value += n;
    while (this.#value > 0) {
      const w = this.#waiters.shift();
      if (w === undefined) break;
      this.#value--;
      w.call.reply(true);
    }
  }
  getValue(): Answer {
    return this.#value;
  }
}

/** Python's `threading.Condition` over a managed Lock or RLock. */
export class ConditionObject extends Served {
  readonly typeid = "Condition";
  readonly #lock: LockObject;
  readonly #waiters = new WaitList<{ count: number }>();
  static readonly EXPOSED = ["acquire", "release", "wait", "notify", "notifyAll"];
  constructor(lock: LockObject) {
    super();
    this.#lock = lock;
  }
  exposed(): readonly string[] {
    return ConditionObject.EXPOSED;
  }
  acquire(call: Call, options?: WaitOptions): Answer {
    return this.#lock.acquire(call, options);
  }
  release(call: Call): Answer {
    return this.#lock.release(call);
  }
  #checkOwned(call: Call, what: string): void {
    if (!this.#lock.core.isOwned(call.peer)) {
      throw new InvalidStateError(`Cannot ${what} a condition: its lock is not held by this caller`);
    }
  }
  /** Take the lock back for the waiter, then answer it. */
  #resume(peer: Peer, count: number, then: () => void): void {
    const core = this.#lock.core;
    if (core.count === 0) {
      core.owner = peer;
      core.count = count;
      then();
    } else core.enqueue(peer, count, then);
  }
  wait(call: Call, timeout?: unknown): Answer {
    const t = timeoutOf(timeout as number | undefined, "wait on a condition");
    this.#checkOwned(call, "wait on");
    const core = this.#lock.core;
    const count = core.recursive ? core.count : 1;
    core.passOn();
    return this.#waiters.park(
      call,
      { count },
      t,
      (w) => this.#resume(w.call.peer, count, () => w.call.reply(false)),
      // A cancelled wait still ends holding the lock, as a wait that returns does.
      (w, gone) => {
        if (!gone) this.#resume(w.call.peer, count, () => {});
      },
    );
  }
  notify(call: Call, n: unknown = 1): Answer {
    this.#checkOwned(call, "notify");
    if (typeof n !== "number" || n < 0) throw new RangeError(`Cannot notify a condition: n must be >= 0, got ${n}`);
    for (let i = 0; i < n; i++) {
      const w = this.#waiters.shift();
      if (w === undefined) break;
      this.#resume(w.call.peer, w.data.count, () => w.call.reply(true));
    }
  }
  notifyAll(call: Call): Answer {
    return this.notify(call, Infinity);
  }
}

/** Python's `threading.Event`. */
export class EventObject extends Served {
  readonly typeid = "Event";
  #flag = false;
  readonly #waiters = new WaitList();
  static readonly EXPOSED = ["set", "clear", "isSet", "wait"];
  exposed(): readonly string[] {
    return EventObject.EXPOSED;
  }
  set(): Answer {
    this.#flag = true;
    for (const w of this.#waiters.drain()) w.call.reply(true);
  }
  clear(): Answer {
    this.#flag = false;
  }
  isSet(): Answer {
    return this.#flag;
  }
  wait(call: Call, timeout?: unknown): Answer {
    const t = timeoutOf(timeout as number | undefined, "wait on an event");
    if (this.#flag) return true;
    if (t === 0) return false;
    return this.#waiters.park(call, undefined, t, (w) => w.call.reply(false));
  }
}

/** Python's `threading.Barrier`. */
export class BarrierObject extends Served {
  readonly typeid = "Barrier";
  readonly #parties: number;
  readonly #timeout: number | undefined;
  #broken = false;
  readonly #waiters = new WaitList<number>();
  static readonly EXPOSED = ["wait", "abort", "reset", "broken", "parties", "nWaiting"];
  constructor(parties: unknown, timeout?: unknown) {
    super();
    if (typeof parties !== "number" || !Number.isInteger(parties) || parties < 1) {
      throw new RangeError(`Cannot make a managed Barrier: parties must be an integer >= 1, got ${String(parties)}`);
    }
    checkTimeout(timeout as number | undefined, "make a managed Barrier");
    this.#parties = parties;
    this.#timeout = timeout as number | undefined;
  }
  exposed(): readonly string[] {
    return BarrierObject.EXPOSED;
  }
  #break(): void {
    this.#broken = true;
    for (const w of this.#waiters.drain()) w.call.fail(new BrokenBarrierError("Cannot pass the barrier: it is broken"));
  }
  wait(call: Call, timeout?: unknown): Answer {
    const t = timeoutOf((timeout ?? this.#timeout) as number | undefined, "wait on a barrier");
    if (this.#broken) throw new BrokenBarrierError("Cannot pass the barrier: it is broken");
    const index = this.#waiters.size;
    if (index + 1 === this.#parties) {
      for (const w of this.#waiters.drain()) w.call.reply(w.data);
      return index;
    }
    return this.#waiters.park(call, index, t, (w) => {
      this.#break();
      w.call.fail(new BrokenBarrierError(`Cannot pass the barrier: the wait timed out after ${t} ms`));
    }, () => this.#break());
  }
  abort(): Answer {
    this.#break();
  }
  reset(): Answer {
    this.#break();
    this.#broken = false;
  }
  broken(): Answer {
    return this.#broken;
  }
  parties(): Answer {
    return this.#parties;
  }
  nWaiting(): Answer {
    return this.#waiters.size;
  }
}

// --- user types -----------------------------------------------------------------------

/** The public method names of `instance`: functions on it and its prototypes, not `_x`. */
export function publicMethods(instance: object): string[] {
  const out = new Set<string>();
  for (let o: object | null = instance; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key === "constructor" || key.startsWith("_")) continue;
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d !== undefined && typeof d.value === "function") out.add(key);
    }
  }
  return [...out];
}

/** An object of a registered type, served with its public methods (Python's AutoProxy). */
export class AutoObject extends Served {
  readonly #methods: string[];
  constructor(readonly typeid: string, readonly instance: object) {
    super();
    this.#methods = publicMethods(instance);
  }
  exposed(): readonly string[] {
    return this.#methods;
  }
  override dispatch(call: Call, method: string, args: unknown[]): Answer {
    if (!this.#methods.includes(method)) {
      throw new TypeError(`Cannot call ${method}() on a managed ${this.typeid}: it has no such public method`);
    }
    const result = (this.instance as Record<string, (...a: unknown[]) => unknown>)[method](...args);
    if (typeof (result as PromiseLike<unknown>)?.then !== "function") return result;
    onLoop(Promise.resolve(result)).then((v) => call.reply(v), (e) => call.fail(e));
    return call.keep(() => {});
  }
}

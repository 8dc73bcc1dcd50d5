// Proxies: what a client holds for an object that lives in a manager. Every method sends
// one request and resolves with the answer; each has a `Sync` twin that blocks instead.
// A proxy is shareable: passed in `args` it arrives in the child as a proxy of the same
// object, and the child's calls use that thread's own connection.
import { checkTimeout } from "../_internal/deadline.ts";
import { registerShareable, type SharedState, toProcess, toShared } from "../_internal/shareable.ts";
import { FullError, InvalidStateError, RemoteError, TimeoutError } from "../errors.ts";
import type { AcquireOptions } from "../sync/lock.ts";
import type { AnyFunction } from "../task.ts";
import {
  type Connection,
  connectionFor,
  existingConnection,
  type ManagerAddress,
  remoteOf,
  setProxyHooks,
} from "./_manager_client.ts";
import type { ProxyToken } from "./_manager_codec.ts";

const KIND = "ipc.ManagerProxy";

interface ProxyState {
  address: ManagerAddress;
  token: ProxyToken;
  connection: Connection | null;
  disposed: boolean;
}

const states = new WeakMap<object, ProxyState>();

function stateOf(proxy: object): ProxyState {
  return states.get(proxy)!;
}

function connection(s: ProxyState, method: string): Connection {
  if (s.disposed) {
    throw new InvalidStateError(`Cannot call ${method}() on a ${s.token.typeid} proxy: it was disposed`);
  }
  return s.connection ??= connectionFor(s.address);
}

function call(proxy: object, method: string, args: unknown[], signal?: AbortSignal): Promise<never> {
  const s = stateOf(proxy);
  try {
    return connection(s, method).call(s.token.id, method, args, signal) as Promise<never>;
  } catch (error) {
    return Promise.reject(error);
  }
}

function callSync(proxy: object, method: string, args: unknown[]): never {
  const s = stateOf(proxy);
  return connection(s, method).callSync(s.token.id, method, args, s.token.typeid) as never;
}

// Reference counting (Python's BaseProxy._incref/_decref): each proxy holds one reference
// to its object in the manager and gives it back when disposed, when collected, or when
// its thread's connection ends. What a collected proxy left is all the registry needs.
interface Held {
  address: ManagerAddress;
  id: number;
}

function giveBack(held: Held): void {
  existingConnection(held.address)?.post("decref", [held.id]);
}

const registry = new FinalizationRegistry<Held>(giveBack);

function track(proxy: object, s: ProxyState): void {
  registry.register(proxy, { address: s.address, id: s.token.id }, s);
}

// A loan names one reference in transit to another thread or process; unique across
// every client of a manager, including other machines.
const loanPrefix = [...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, "0"))
  .join("");
let loans = 0;

/** Lend a reference for the copy of `proxy` about to cross; its revival takes it over. */
function lend(s: ProxyState): string | null {
  if (s.disposed) {
    throw new InvalidStateError(`Cannot send a ${s.token.typeid} proxy: it was disposed`);
  }
  const loan = `${loanPrefix}-${++loans}`;
  try {
    connection(s, "lend").post("lend", [s.token.id, loan]);
  } catch {
    // The manager is gone: the copy will say so when used.
    return null;
  }
  return loan;
}

/** Options for a proxy wait: `timeout` in ms and an AbortSignal. */
export interface ProxyWaitOptions {
  /** Longest wait in milliseconds; `undefined` waits as long as it takes. @default {undefined} */
  timeout?: number;
  /** Abort the wait; the promise rejects with `signal.reason`. @default {undefined} */
  signal?: AbortSignal;
}

/** Options for a managed queue's `put` and `get`. */
export interface ProxyQueueOptions extends ProxyWaitOptions {
  /** When false, fail at once instead of waiting (Python's `block=False`). @default {true} */
  block?: boolean;
}

function waitArgs(options: { blocking?: boolean; block?: boolean; timeout?: number } | undefined, what: string) {
  checkTimeout(options?.timeout, what);
  return { blocking: options?.blocking ?? options?.block ?? true, timeout: options?.timeout };
}

// FullError carries the unsent item, which only the caller has: the error record from
// the server is rebuilt here with it, so the item is never lost.
function withItem(promise: Promise<never>, item: unknown): Promise<never> {
  return promise.catch((error) => {
    if (error instanceof RemoteError && error.remoteName === "FullError") {
      throw new FullError(error.message, item, { cause: error });
    }
    throw error;
  });
}

function withItemSync(fn: () => never, item: unknown): never {
  try {
    return fn();
  } catch (error) {
    if (error instanceof RemoteError && error.remoteName === "FullError") {
      throw new FullError(error.message, item, { cause: error });
    }
    throw error;
  }
}

function disposer(release: () => Promise<unknown>): AsyncDisposable & Disposable {
  return {
    [Symbol.dispose]: () => void release(),
    [Symbol.asyncDispose]: async () => void await release(),
  };
}

/**
 * Base of every manager proxy: which manager and object it stands for. Proxies are made by
 * a manager (`manager.dict()`) or arrive in `args`, never constructed directly.
 */
export class BaseProxy {
  /** @internal */
  constructor(address: ManagerAddress, token: ProxyToken) {
    states.set(this, { address, token, connection: null, disposed: false });
  }

  /** The type served, e.g. `"dict"`, or the typeid of a registered type. */
  get typeid(): string {
    return stateOf(this).token.typeid;
  }

  /**
   * Give back this proxy's reference to its object. The manager frees the object once
   * no proxy anywhere refers to it (and no other managed object holds it), as Python's
   * manager does when the last proxy is garbage-collected; a collected proxy gives its
   * reference back by itself, so disposing only makes it prompt. Calls on this proxy
   * then fail with an {@linkcode InvalidStateError}; copies sent to other threads hold
   * their own references and go on working. A second dispose does nothing.
   *
   * @example Usage
   * ```ts
   * import { Manager } from "@mproc/multiprocessing";
   * import assert from "node:assert/strict";
   * await using manager = await Manager.start();
   * {
   *   using d = await manager.dict({ a: 1 });
   *   assert.equal(await d.get("a"), 1);
   * }
   * assert.equal((await manager.stats()).objects, 0);
   * ```
   */
  [Symbol.dispose](): void {
    const s = stateOf(this);
    if (s.disposed) return;
    s.disposed = true;
    registry.unregister(s);
    giveBack({ address: s.address, id: s.token.id });
  }

  /**
   * Describe this proxy for another thread.
   *
   * @throws {InvalidStateError} when the proxy was disposed
   */
  [toShared](): SharedState {
    const s = stateOf(this);
    const { address, token } = s;
    return { kind: KIND, module: import.meta.url, state: { address, token, loan: lend(s) } };
  }

  /**
   * Describe this proxy for another OS process, which reaches the manager over TCP.
   *
   * @throws {TypeError} when the manager serves the threads of this program only
   */
  [toProcess](): SharedState {
    const s = stateOf(this);
    const { address, token } = s;
    const remote = remoteOf(address);
    if (remote === undefined) {
      throw new TypeError(
        `a proxy of a manager that serves this program's threads only cannot reach another process: start the manager with an address, e.g. new Manager({ address: { host: "127.0.0.1", port: 0 } })`,
      );
    }
    return {
      kind: KIND,
      module: import.meta.url,
      state: { address: { uid: address.uid, remote }, token, loan: lend(s) },
    };
  }

  /** A short description, like Python's repr. */
  toString(): string {
    const { token } = stateOf(this);
    return `<${this.constructor.name} object, typeid '${token.typeid}' id ${token.id}>`;
  }
}

/**
 * A proxy of a managed dict (Python's `DictProxy`), keyed by strings, numbers, bigints,
 * booleans or null. Iterate it with `for await` to get its keys.
 *
 * @typeParam K key type
 * @typeParam V value type
 */
export class DictProxy<K = string, V = unknown> extends BaseProxy {
  /** The value for `key`, or `fallback` when absent (Python's `d.get(k, default)`). */
  get(key: K, fallback?: V): Promise<V | undefined> {
    return call(this, "get", fallback === undefined ? [key] : [key, fallback]);
  }
  /** Blocking twin of {@linkcode DictProxy.get}. */
  getSync(key: K, fallback?: V): V | undefined {
    return callSync(this, "get", fallback === undefined ? [key] : [key, fallback]);
  }
  /** Set `key` to `value` (Python's `d[k] = v`). */
  set(key: K, value: V): Promise<void> {
    return call(this, "set", [key, value]);
  }
  /** Blocking twin of {@linkcode DictProxy.set}. */
  setSync(key: K, value: V): void {
    return callSync(this, "set", [key, value]);
  }
  /** Whether `key` is present (Python's `k in d`). */
  has(key: K): Promise<boolean> {
    return call(this, "has", [key]);
  }
  /** Blocking twin of {@linkcode DictProxy.has}. */
  hasSync(key: K): boolean {
    return callSync(this, "has", [key]);
  }
  /** Remove `key`; resolves with whether it was present. */
  delete(key: K): Promise<boolean> {
    return call(this, "delete", [key]);
  }
  /** Blocking twin of {@linkcode DictProxy.delete}. */
  deleteSync(key: K): boolean {
    return callSync(this, "delete", [key]);
  }
  /** All keys, in insertion order. */
  keys(): Promise<K[]> {
    return call(this, "keys", []);
  }
  /** Blocking twin of {@linkcode DictProxy.keys}. */
  keysSync(): K[] {
    return callSync(this, "keys", []);
  }
  /** All values. */
  values(): Promise<V[]> {
    return call(this, "values", []);
  }
  /** Blocking twin of {@linkcode DictProxy.values}. */
  valuesSync(): V[] {
    return callSync(this, "values", []);
  }
  /** All `[key, value]` pairs. */
  items(): Promise<[K, V][]> {
    return call(this, "items", []);
  }
  /** Blocking twin of {@linkcode DictProxy.items}. */
  itemsSync(): [K, V][] {
    return callSync(this, "items", []);
  }
  /** Number of keys (Python's `len(d)`). */
  size(): Promise<number> {
    return call(this, "size", []);
  }
  /** Blocking twin of {@linkcode DictProxy.size}. */
  sizeSync(): number {
    return callSync(this, "size", []);
  }
  /** Set every pair of `other`: a Map, a plain object or `[key, value]` pairs. */
  update(other: Map<K, V> | Record<string, V> | [K, V][]): Promise<void> {
    return call(this, "update", [other]);
  }
  /** Blocking twin of {@linkcode DictProxy.update}. */
  updateSync(other: Map<K, V> | Record<string, V> | [K, V][]): void {
    return callSync(this, "update", [other]);
  }
  /**
   * Remove `key` and resolve with its value; with no `fallback` a missing key rejects.
   *
   * @throws {RangeError} when the key is absent and no fallback was given
   */
  pop(key: K, ...fallback: [V?]): Promise<V> {
    return call(this, "pop", [key, ...fallback]);
  }
  /** Blocking twin of {@linkcode DictProxy.pop}. */
  popSync(key: K, ...fallback: [V?]): V {
    return callSync(this, "pop", [key, ...fallback]);
  }
  /** The value of `key`, set to `fallback` first when absent. */
  setDefault(key: K, fallback?: V): Promise<V> {
    return call(this, "setDefault", [key, fallback]);
  }
  /** Blocking twin of {@linkcode DictProxy.setDefault}. */
  setDefaultSync(key: K, fallback?: V): V {
    return callSync(this, "setDefault", [key, fallback]);
  }
  /** Remove every key. */
  clear(): Promise<void> {
    return call(this, "clear", []);
  }
  /** Blocking twin of {@linkcode DictProxy.clear}. */
  clearSync(): void {
    return callSync(this, "clear", []);
  }
  /** A local copy, as a Map. */
  copy(): Promise<Map<K, V>> {
    return call(this, "copy", []);
  }
  /** Blocking twin of {@linkcode DictProxy.copy}. */
  copySync(): Map<K, V> {
    return callSync(this, "copy", []);
  }
  /** Iterate the keys (a snapshot taken when iteration starts). */
  async *[Symbol.asyncIterator](): AsyncIterator<K> {
    yield* await this.keys();
  }
}

/**
 * A proxy of a managed list (Python's `ListProxy`). Negative indices count from the end.
 * Iterate it with `for await`.
 *
 * @typeParam T item type
 */
export class ListProxy<T = unknown> extends BaseProxy {
  /**
   * The item at `index`.
   *
   * @throws {RangeError} when the index is out of range
   */
  get(index: number): Promise<T> {
    return call(this, "get", [index]);
  }
  /** Blocking twin of {@linkcode ListProxy.get}. */
  getSync(index: number): T {
    return callSync(this, "get", [index]);
  }
  /** Replace the item at `index`. */
  set(index: number, value: T): Promise<void> {
    return call(this, "set", [index, value]);
  }
  /** Blocking twin of {@linkcode ListProxy.set}. */
  setSync(index: number, value: T): void {
    return callSync(this, "set", [index, value]);
  }
  /** Add `value` at the end. */
  append(value: T): Promise<void> {
    return call(this, "append", [value]);
  }
  /** Blocking twin of {@linkcode ListProxy.append}. */
  appendSync(value: T): void {
    return callSync(this, "append", [value]);
  }
  /** Add every value at the end. */
  extend(values: T[]): Promise<void> {
    return call(this, "extend", [values]);
  }
  /** Blocking twin of {@linkcode ListProxy.extend}. */
  extendSync(values: T[]): void {
    return callSync(this, "extend", [values]);
  }
  /** Insert `value` before `index`. */
  insert(index: number, value: T): Promise<void> {
    return call(this, "insert", [index, value]);
  }
  /** Blocking twin of {@linkcode ListProxy.insert}. */
  insertSync(index: number, value: T): void {
    return callSync(this, "insert", [index, value]);
  }
  /**
   * Remove and return the item at `index` (the last by default).
   *
   * @throws {RangeError} when the list is empty or the index out of range
   */
  pop(index = -1): Promise<T> {
    return call(this, "pop", [index]);
  }
  /** Blocking twin of {@linkcode ListProxy.pop}. */
  popSync(index = -1): T {
    return callSync(this, "pop", [index]);
  }
  /**
   * Remove the first item equal to `value` (compared by value).
   *
   * @throws {RangeError} when no item is equal
   */
  remove(value: T): Promise<void> {
    return call(this, "remove", [value]);
  }
  /** Blocking twin of {@linkcode ListProxy.remove}. */
  removeSync(value: T): void {
    return callSync(this, "remove", [value]);
  }
  /**
   * The index of the first item equal to `value`.
   *
   * @throws {RangeError} when no item is equal
   */
  index(value: T, start?: number, stop?: number): Promise<number> {
    return call(this, "index", [value, start, stop]);
  }
  /** Blocking twin of {@linkcode ListProxy.index}. */
  indexSync(value: T, start?: number, stop?: number): number {
    return callSync(this, "index", [value, start, stop]);
  }
  /** How many items equal `value`. */
  count(value: T): Promise<number> {
    return call(this, "count", [value]);
  }
  /** Blocking twin of {@linkcode ListProxy.count}. */
  countSync(value: T): number {
    return callSync(this, "count", [value]);
  }
  /** Number of items (Python's `len(l)`). */
  length(): Promise<number> {
    return call(this, "length", []);
  }
  /** Blocking twin of {@linkcode ListProxy.length}. */
  lengthSync(): number {
    return callSync(this, "length", []);
  }
  /** A copy of items `start` to `stop` (Python's `l[start:stop]`). */
  slice(start?: number, stop?: number): Promise<T[]> {
    return call(this, "slice", [start, stop]);
  }
  /** Blocking twin of {@linkcode ListProxy.slice}. */
  sliceSync(start?: number, stop?: number): T[] {
    return callSync(this, "slice", [start, stop]);
  }
  /** Reverse the list in place. */
  reverse(): Promise<void> {
    return call(this, "reverse", []);
  }
  /** Blocking twin of {@linkcode ListProxy.reverse}. */
  reverseSync(): void {
    return callSync(this, "reverse", []);
  }
  /**
   * Sort in place: numbers by value, strings by code unit, as Python orders them.
   *
   * @throws {TypeError} when items cannot be compared (a number and a string)
   */
  sort(options?: { reverse?: boolean }): Promise<void> {
    return call(this, "sort", [options ?? {}]);
  }
  /** Blocking twin of {@linkcode ListProxy.sort}. */
  sortSync(options?: { reverse?: boolean }): void {
    return callSync(this, "sort", [options ?? {}]);
  }
  /** A local copy of every item. */
  toArray(): Promise<T[]> {
    return call(this, "toArray", []);
  }
  /** Blocking twin of {@linkcode ListProxy.toArray}. */
  toArraySync(): T[] {
    return callSync(this, "toArray", []);
  }
  /** Iterate the items (a snapshot taken when iteration starts). */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    yield* await this.toArray();
  }
}

/** A proxy of a managed Namespace: named attributes any client may read and set. */
export class NamespaceProxy extends BaseProxy {
  /** The attribute `name`, or undefined when unset. */
  get<T = unknown>(name: string): Promise<T | undefined> {
    return call(this, "get", [name]);
  }
  /** Blocking twin of {@linkcode NamespaceProxy.get}. */
  getSync<T = unknown>(name: string): T | undefined {
    return callSync(this, "get", [name]);
  }
  /** Set the attribute `name`. */
  set(name: string, value: unknown): Promise<void> {
    return call(this, "set", [name, value]);
  }
  /** Blocking twin of {@linkcode NamespaceProxy.set}. */
  setSync(name: string, value: unknown): void {
    return callSync(this, "set", [name, value]);
  }
  /** Remove the attribute `name`; resolves with whether it was set. */
  delete(name: string): Promise<boolean> {
    return call(this, "delete", [name]);
  }
  /** Blocking twin of {@linkcode NamespaceProxy.delete}. */
  deleteSync(name: string): boolean {
    return callSync(this, "delete", [name]);
  }
  /** Whether the attribute `name` is set. */
  has(name: string): Promise<boolean> {
    return call(this, "has", [name]);
  }
  /** Blocking twin of {@linkcode NamespaceProxy.has}. */
  hasSync(name: string): boolean {
    return callSync(this, "has", [name]);
  }
  /** Every attribute, as a plain object. */
  toObject(): Promise<Record<string, unknown>> {
    return call(this, "toObject", []);
  }
  /** Blocking twin of {@linkcode NamespaceProxy.toObject}. */
  toObjectSync(): Record<string, unknown> {
    return callSync(this, "toObject", []);
  }
}

/**
 * A proxy of a managed Value. As in Python, the typecode is kept but the value is not
 * coerced; for C-typed shared memory use `Value` from `shm`.
 *
 * @typeParam T value type
 */
export class ValueProxy<T = unknown> extends BaseProxy {
  /** The value (Python's `v.value`). */
  get(): Promise<T> {
    return call(this, "get", []);
  }
  /** Blocking twin of {@linkcode ValueProxy.get}. */
  getSync(): T {
    return callSync(this, "get", []);
  }
  /** Replace the value (Python's `v.value = x`). */
  set(value: T): Promise<void> {
    return call(this, "set", [value]);
  }
  /** Blocking twin of {@linkcode ValueProxy.set}. */
  setSync(value: T): void {
    return callSync(this, "set", [value]);
  }
}

/**
 * A proxy of a managed Array: numbers of one typecode that wrap as C numbers do (64-bit
 * typecodes hold bigints). Iterate it with `for await`.
 *
 * @typeParam T `number`, or `bigint` for 64-bit typecodes
 */
export class ArrayProxy<T extends number | bigint = number> extends BaseProxy {
  /** The item at `index` (negative counts from the end). */
  get(index: number): Promise<T> {
    return call(this, "get", [index]);
  }
  /** Blocking twin of {@linkcode ArrayProxy.get}. */
  getSync(index: number): T {
    return callSync(this, "get", [index]);
  }
  /** Store `value` at `index`. */
  set(index: number, value: T): Promise<void> {
    return call(this, "set", [index, value]);
  }
  /** Blocking twin of {@linkcode ArrayProxy.set}. */
  setSync(index: number, value: T): void {
    return callSync(this, "set", [index, value]);
  }
  /** Number of items. */
  length(): Promise<number> {
    return call(this, "length", []);
  }
  /** Blocking twin of {@linkcode ArrayProxy.length}. */
  lengthSync(): number {
    return callSync(this, "length", []);
  }
  /** A copy of items `start` to `stop`. */
  slice(start?: number, stop?: number): Promise<T[]> {
    return call(this, "slice", [start, stop]);
  }
  /** Blocking twin of {@linkcode ArrayProxy.slice}. */
  sliceSync(start?: number, stop?: number): T[] {
    return callSync(this, "slice", [start, stop]);
  }
  /** A local copy of every item. */
  toArray(): Promise<T[]> {
    return call(this, "toArray", []);
  }
  /** Blocking twin of {@linkcode ArrayProxy.toArray}. */
  toArraySync(): T[] {
    return callSync(this, "toArray", []);
  }
  /** Iterate the items (a snapshot taken when iteration starts). */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    yield* await this.toArray();
  }
}

/**
 * A proxy of a managed queue (Python's `queue.Queue` behind a manager).
 *
 * @typeParam T item type
 */
export class QueueProxy<T = unknown> extends BaseProxy {
  /**
   * Put `item`, waiting for room when the queue is bounded and full.
   *
   * @throws {FullError} when `block` is false or the timeout passed; `error.value` is the item
   */
  put(item: T, options?: ProxyQueueOptions): Promise<void> {
    try {
      return withItem(call(this, "put", [item, waitArgs(options, "put an item in a queue")], options?.signal), item);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  /** Blocking twin of {@linkcode QueueProxy.put}; an already aborted `signal` throws its reason. */
  putSync(item: T, options?: ProxyQueueOptions): void {
    if (options?.signal?.aborted) throw options.signal.reason;
    return withItemSync(() => callSync(this, "put", [item, waitArgs(options, "put an item in a queue")]), item);
  }
  /**
   * Put `item` only if there is room now.
   *
   * @throws {FullError} when the queue is full
   */
  putNowait(item: T): Promise<void> {
    return withItem(call(this, "putNowait", [item]), item);
  }
  /**
   * Take the oldest item, waiting for one.
   *
   * @throws {EmptyError} when `block` is false or the timeout passed
   */
  get(options?: ProxyQueueOptions): Promise<T> {
    try {
      return call(this, "get", [waitArgs(options, "get an item from a queue")], options?.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  /** Blocking twin of {@linkcode QueueProxy.get}; an already aborted `signal` throws its reason. */
  getSync(options?: ProxyQueueOptions): T {
    if (options?.signal?.aborted) throw options.signal.reason;
    return callSync(this, "get", [waitArgs(options, "get an item from a queue")]);
  }
  /**
   * Take the oldest item only if there is one now.
   *
   * @throws {EmptyError} when the queue is empty
   */
  getNowait(): Promise<T> {
    return call(this, "getNowait", []);
  }
  /** Number of items queued. */
  qsize(): Promise<number> {
    return call(this, "qsize", []);
  }
  /** Blocking twin of {@linkcode QueueProxy.qsize}. */
  qsizeSync(): number {
    return callSync(this, "qsize", []);
  }
  /** Whether the queue is empty. */
  empty(): Promise<boolean> {
    return call(this, "empty", []);
  }
  /** Blocking twin of {@linkcode QueueProxy.empty}. */
  emptySync(): boolean {
    return callSync(this, "empty", []);
  }
  /** Whether a bounded queue is full. */
  full(): Promise<boolean> {
    return call(this, "full", []);
  }
  /** Blocking twin of {@linkcode QueueProxy.full}. */
  fullSync(): boolean {
    return callSync(this, "full", []);
  }
  /** Close the queue for every client: puts fail, gets take what is left and then fail, iteration ends. */
  close(): Promise<void> {
    return call(this, "close", []);
  }
  /** Blocking twin of {@linkcode QueueProxy.close}. */
  closeSync(): void {
    return callSync(this, "close", []);
  }
  /** Whether the queue was closed. */
  closed(): Promise<boolean> {
    return call(this, "closed", []);
  }
  /** Take items until the queue is closed and empty. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const next = await call(this, "next", []) as IteratorResult<T>;
      if (next.done) return;
      yield next.value;
    }
  }
}

/**
 * A proxy of a managed joinable queue: a {@linkcode QueueProxy} whose consumers mark
 * items done, so a producer can wait until all are.
 *
 * @typeParam T item type
 */
export class JoinableQueueProxy<T = unknown> extends QueueProxy<T> {
  /**
   * Mark one item taken with `get` as processed.
   *
   * @throws {InvalidStateError} when called more times than items were put
   */
  taskDone(): Promise<void> {
    return call(this, "taskDone", []);
  }
  /** Blocking twin of {@linkcode JoinableQueueProxy.taskDone}. */
  taskDoneSync(): void {
    return callSync(this, "taskDone", []);
  }
  /** Wait until every item put has been marked done. */
  join(options?: { signal?: AbortSignal }): Promise<void> {
    return call(this, "join", [], options?.signal);
  }
  /** Blocking twin of {@linkcode JoinableQueueProxy.join}. */
  joinSync(): void {
    return callSync(this, "join", []);
  }
}

/** A proxy of a managed Lock or RLock. An RLock is owned by the thread's connection. */
export class LockProxy extends BaseProxy {
  /**
   * Take the lock, waiting while another client holds it.
   *
   * @returns true once taken; false when `blocking` is false or the timeout passed
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    try {
      return call(this, "acquire", [waitArgs(options, "acquire a lock")], options?.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  /** Blocking twin of {@linkcode LockProxy.acquire}; an already aborted `signal` throws its reason. */
  acquireSync(options?: AcquireOptions): boolean {
    if (options?.signal?.aborted) throw options.signal.reason;
    return callSync(this, "acquire", [waitArgs(options, "acquire a lock")]);
  }
  /**
   * Release the lock.
   *
   * @throws {InvalidStateError} when it is not locked (or, for an RLock, held by another client)
   */
  release(): Promise<void> {
    return call(this, "release", []);
  }
  /** Blocking twin of {@linkcode LockProxy.release}. */
  releaseSync(): void {
    return callSync(this, "release", []);
  }
  /** Whether some client holds the lock. */
  locked(): Promise<boolean> {
    return call(this, "locked", []);
  }
  /** Blocking twin of {@linkcode LockProxy.locked}. */
  lockedSync(): boolean {
    return callSync(this, "locked", []);
  }
  /**
   * Take the lock and return a disposable that releases it: `await using _ = await lock.hold()`.
   *
   * @throws {TimeoutError} when the timeout passes first
   */
  async hold(options?: Omit<AcquireOptions, "blocking">): Promise<AsyncDisposable & Disposable> {
    if (!await this.acquire(options)) {
      throw new TimeoutError(`Cannot hold the lock: timed out after ${options?.timeout} ms`);
    }
    return disposer(() => this.release());
  }
  /**
   * Take the lock, blocking, and return a disposable that releases it.
   *
   * @throws {TimeoutError} when the timeout passes first
   */
  holdSync(options?: Omit<AcquireOptions, "blocking">): Disposable {
    if (!this.acquireSync(options)) {
      throw new TimeoutError(`Cannot hold the lock: timed out after ${options?.timeout} ms`);
    }
    return { [Symbol.dispose]: () => this.releaseSync() };
  }
}

/** A proxy of a managed Semaphore or BoundedSemaphore. */
export class SemaphoreProxy extends BaseProxy {
  /** Take one unit, waiting while none is free. */
  acquire(options?: AcquireOptions): Promise<boolean> {
    try {
      return call(this, "acquire", [waitArgs(options, "acquire a semaphore")], options?.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  /** Blocking twin of {@linkcode SemaphoreProxy.acquire}. */
  acquireSync(options?: AcquireOptions): boolean {
    if (options?.signal?.aborted) throw options.signal.reason;
    return callSync(this, "acquire", [waitArgs(options, "acquire a semaphore")]);
  }
  /**
   * Give back `n` units.
   *
   * @throws {RangeError} when a BoundedSemaphore would exceed its initial value
   */
  release(n = 1): Promise<void> {
    return call(this, "release", [n]);
  }
  /** Blocking twin of {@linkcode SemaphoreProxy.release}. */
  releaseSync(n = 1): void {
    return callSync(this, "release", [n]);
  }
  /** Units free now. */
  getValue(): Promise<number> {
    return call(this, "getValue", []);
  }
  /** Blocking twin of {@linkcode SemaphoreProxy.getValue}. */
  getValueSync(): number {
    return callSync(this, "getValue", []);
  }
}

/** A proxy of a managed Condition, over a managed RLock unless given a lock. */
export class ConditionProxy extends BaseProxy {
  /** Take the condition's lock. */
  acquire(options?: AcquireOptions): Promise<boolean> {
    try {
      return call(this, "acquire", [waitArgs(options, "acquire a condition")], options?.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  /** Blocking twin of {@linkcode ConditionProxy.acquire}. */
  acquireSync(options?: AcquireOptions): boolean {
    return callSync(this, "acquire", [waitArgs(options, "acquire a condition")]);
  }
  /** Release the condition's lock. */
  release(): Promise<void> {
    return call(this, "release", []);
  }
  /** Blocking twin of {@linkcode ConditionProxy.release}. */
  releaseSync(): void {
    return callSync(this, "release", []);
  }
  /** Take the lock and return a disposable that releases it. */
  async hold(options?: Omit<AcquireOptions, "blocking">): Promise<AsyncDisposable & Disposable> {
    if (!await this.acquire(options)) {
      throw new TimeoutError(`Cannot hold the condition: timed out after ${options?.timeout} ms`);
    }
    return disposer(() => this.release());
  }
  /** Take the lock, blocking, and return a disposable that releases it. */
  holdSync(): Disposable {
    this.acquireSync();
    return { [Symbol.dispose]: () => this.releaseSync() };
  }
  /**
   * Release the lock, wait for a notify (or the timeout), take the lock back.
   *
   * @returns false when the timeout passed
   * @throws {InvalidStateError} when the caller does not hold the lock
   */
  wait(timeout?: number, options?: { signal?: AbortSignal }): Promise<boolean> {
    try {
      checkTimeout(timeout, "wait on a condition");
    } catch (error) {
      return Promise.reject(error);
    }
    return call(this, "wait", [timeout], options?.signal);
  }
  /** Blocking twin of {@linkcode ConditionProxy.wait}. */
  waitSync(timeout?: number): boolean {
    checkTimeout(timeout, "wait on a condition");
    return callSync(this, "wait", [timeout]);
  }
  /** Wait until `predicate()` is true, or the timeout passes; resolves with its last value. */
  async waitFor(predicate: () => boolean | Promise<boolean>, timeout?: number): Promise<boolean> {
    checkTimeout(timeout, "wait on a condition");
    const end = timeout === undefined ? Infinity : performance.now() + timeout;
    let result = await predicate();
    while (!result) {
      const left = end - performance.now();
      if (left <= 0) break;
      await this.wait(left === Infinity ? undefined : left);
      result = await predicate();
    }
    return result;
  }
  /** Blocking twin of {@linkcode ConditionProxy.waitFor}. */
  waitForSync(predicate: () => boolean, timeout?: number): boolean {
    checkTimeout(timeout, "wait on a condition");
    const end = timeout === undefined ? Infinity : performance.now() + timeout;
    let result = predicate();
    while (!result) {
      const left = end - performance.now();
      if (left <= 0) break;
      this.waitSync(left === Infinity ? undefined : left);
      result = predicate();
    }
    return result;
  }
  /** Wake up to `n` waiters; the caller must hold the lock. */
  notify(n = 1): Promise<void> {
    return call(this, "notify", [n]);
  }
  /** Blocking twin of {@linkcode ConditionProxy.notify}. */
  notifySync(n = 1): void {
    return callSync(this, "notify", [n]);
  }
  /** Wake every waiter; the caller must hold the lock. */
  notifyAll(): Promise<void> {
    return call(this, "notifyAll", []);
  }
  /** Blocking twin of {@linkcode ConditionProxy.notifyAll}. */
  notifyAllSync(): void {
    return callSync(this, "notifyAll", []);
  }
}

/** A proxy of a managed Event. */
export class EventProxy extends BaseProxy {
  /** Set the flag and wake every waiter. */
  set(): Promise<void> {
    return call(this, "set", []);
  }
  /** Blocking twin of {@linkcode EventProxy.set}. */
  setSync(): void {
    return callSync(this, "set", []);
  }
  /** Clear the flag. */
  clear(): Promise<void> {
    return call(this, "clear", []);
  }
  /** Blocking twin of {@linkcode EventProxy.clear}. */
  clearSync(): void {
    return callSync(this, "clear", []);
  }
  /** Whether the flag is set. */
  isSet(): Promise<boolean> {
    return call(this, "isSet", []);
  }
  /** Blocking twin of {@linkcode EventProxy.isSet}. */
  isSetSync(): boolean {
    return callSync(this, "isSet", []);
  }
  /** Wait until the flag is set; resolves false when the timeout passed first. */
  wait(timeout?: number, options?: { signal?: AbortSignal }): Promise<boolean> {
    try {
      checkTimeout(timeout, "wait on an event");
    } catch (error) {
      return Promise.reject(error);
    }
    return call(this, "wait", [timeout], options?.signal);
  }
  /** Blocking twin of {@linkcode EventProxy.wait}. */
  waitSync(timeout?: number): boolean {
    checkTimeout(timeout, "wait on an event");
    return callSync(this, "wait", [timeout]);
  }
}

/** A proxy of a managed Barrier. */
export class BarrierProxy extends BaseProxy {
  /**
   * Wait until `parties` callers wait; resolves with this caller's arrival index.
   *
   * @throws {BrokenBarrierError} when the barrier is or becomes broken (a timeout breaks it)
   */
  wait(timeout?: number, options?: { signal?: AbortSignal }): Promise<number> {
    try {
      checkTimeout(timeout, "wait on a barrier");
    } catch (error) {
      return Promise.reject(error);
    }
    return call(this, "wait", [timeout], options?.signal);
  }
  /** Blocking twin of {@linkcode BarrierProxy.wait}. */
  waitSync(timeout?: number): number {
    checkTimeout(timeout, "wait on a barrier");
    return callSync(this, "wait", [timeout]);
  }
  /** Break the barrier: current and later waiters fail with BrokenBarrierError. */
  abort(): Promise<void> {
    return call(this, "abort", []);
  }
  /** Blocking twin of {@linkcode BarrierProxy.abort}. */
  abortSync(): void {
    return callSync(this, "abort", []);
  }
  /** Break current waits, then make the barrier usable again. */
  reset(): Promise<void> {
    return call(this, "reset", []);
  }
  /** Blocking twin of {@linkcode BarrierProxy.reset}. */
  resetSync(): void {
    return callSync(this, "reset", []);
  }
  /** Whether the barrier is broken. */
  broken(): Promise<boolean> {
    return call(this, "broken", []);
  }
  /** Blocking twin of {@linkcode BarrierProxy.broken}. */
  brokenSync(): boolean {
    return callSync(this, "broken", []);
  }
  /** How many callers it waits for. */
  parties(): Promise<number> {
    return call(this, "parties", []);
  }
  /** Blocking twin of {@linkcode BarrierProxy.parties}. */
  partiesSync(): number {
    return callSync(this, "parties", []);
  }
  /** How many callers wait now. */
  nWaiting(): Promise<number> {
    return call(this, "nWaiting", []);
  }
  /** Blocking twin of {@linkcode BarrierProxy.nWaiting}. */
  nWaitingSync(): number {
    return callSync(this, "nWaiting", []);
  }
}

/**
 * A proxy of an object of a registered type (Python's AutoProxy): each public method `m`
 * of the object is `m(...args): Promise<result>` here, and `mSync(...args)` blocks.
 *
 * @typeParam T the served object's type
 */
export type AutoProxy<T> =
  & BaseProxy
  & {
    [K in keyof T as T[K] extends AnyFunction ? K : never]: T[K] extends AnyFunction
      ? (...args: Parameters<T[K]>) => Promise<Awaited<ReturnType<T[K]>>>
      : never;
  }
  & {
    [K in keyof T as T[K] extends AnyFunction ? `${K & string}Sync` : never]: T[K] extends AnyFunction
      ? (...args: Parameters<T[K]>) => Awaited<ReturnType<T[K]>>
      : never;
  };

class AutoBase extends BaseProxy {}

function autoProxy(address: ManagerAddress, token: ProxyToken): BaseProxy {
  const base = new AutoBase(address, token);
  const methods = new Set(token.methods ?? []);
  const wrapper = new Proxy(base, {
    get(target, prop) {
      if (typeof prop === "string" && !(prop in target)) {
        if (methods.has(prop)) return (...args: unknown[]) => call(target, prop, args);
        const name = prop.endsWith("Sync") ? prop.slice(0, -4) : "";
        if (methods.has(name)) return (...args: unknown[]) => callSync(target, name, args);
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  states.set(wrapper, stateOf(base));
  return wrapper;
}

const CLASSES: Record<string, new(address: ManagerAddress, token: ProxyToken) => BaseProxy> = {
  dict: DictProxy,
  list: ListProxy,
  Namespace: NamespaceProxy,
  Value: ValueProxy,
  Array: ArrayProxy,
  Queue: QueueProxy,
  JoinableQueue: JoinableQueueProxy,
  Lock: LockProxy,
  RLock: LockProxy,
  Semaphore: SemaphoreProxy,
  BoundedSemaphore: SemaphoreProxy,
  Condition: ConditionProxy,
  Event: EventProxy,
  Barrier: BarrierProxy,
};

/**
 * Build the proxy a token stands for, holding the reference the manager took for this
 * client when it sent the token.
 */
export function makeProxy(address: ManagerAddress, token: ProxyToken): BaseProxy {
  let proxy: BaseProxy;
  if (token.methods !== null) proxy = autoProxy(address, token);
  else {
    const Ctor = CLASSES[token.typeid];
    if (Ctor === undefined) throw new TypeError(`Cannot make a proxy for unknown manager type "${token.typeid}"`);
    proxy = new Ctor(address, token);
  }
  track(proxy, stateOf(proxy));
  return proxy;
}

setProxyHooks(makeProxy, (o) => {
  const s = states.get(o);
  if (s?.disposed) throw new InvalidStateError(`Cannot send a ${s.token.typeid} proxy: it was disposed`);
  return s?.token;
});

// A copy from another thread or process takes its own reference, taking over the one its
// sender lent; this thread's requests are served in order, so it counts before any call.
registerShareable(
  KIND,
  (state: { address: ManagerAddress; token: ProxyToken; loan?: string | null }) => {
    const proxy = makeProxy(state.address, state.token);
    try {
      connectionFor(state.address).post("incref", [state.token.id, state.loan ?? null]);
    } catch {
      // The manager was shut down: the proxy's calls say so.
    }
    return proxy;
  },
);

// The shareable-handle protocol. Structured clone carries a SharedArrayBuffer by
// reference but drops class identity, so a shareable object (a Lock, a Value, a Queue)
// describes itself as plain state, and the receiving thread rebuilds a live object of the
// same class over the same memory. The state says which module defines the class, so a
// worker that never imported it can load it before reviving.
import { runtime } from "../_runtime/mod.ts";

/** The method a shareable class implements to describe itself for another thread. */
export const toShared: unique symbol = Symbol.for("mproc.toShared") as never;

/**
 * The method a shareable class implements when its objects can also reach another OS
 * process (which shares no memory): it returns state without SharedArrayBuffers, or throws
 * a TypeError saying why this object cannot go. A Manager proxy reconnects over TCP.
 */
export const toProcess: unique symbol = Symbol.for("mproc.toProcess") as never;

/** What a shareable object turns into when it crosses to another thread. */
export interface SharedState {
  /** Registry key of the class, unique in the program, e.g. `"sync.Lock"`. */
  kind: string;
  /** URL of the module that registers `kind` (usually the class's own `import.meta.url`). */
  module: string;
  /** Cloneable data: SharedArrayBuffers and small metadata. */
  state: unknown;
}

/** An object that can be sent to another thread and arrive live over the same memory. */
export interface Shareable {
  /** Describe this object for another thread. */
  [toShared](): SharedState;
}

type Reviver = (state: never) => unknown;
const revivers = new Map<string, Reviver>();

/**
 * Register how to rebuild objects of `kind` from their state. Call it at module top
 * level, next to the class.
 */
export function registerShareable<S>(kind: string, revive: (state: S) => unknown): void {
  revivers.set(kind, revive as Reviver);
}

/** Whether `value` implements the protocol. */
export function isShareable(value: unknown): value is Shareable {
  return typeof value === "object" && value !== null
    && typeof (value as Partial<Shareable>)[toShared] === "function";
}

type Path = (string | number)[];

/** Values ready for `postMessage`, with the places where shareable objects go back. */
export interface Encoded {
  /** The value with each shareable object replaced by `null`. */
  value: unknown;
  /** Where each shareable object was, and its state. Absent when there were none. */
  refs?: { path: Path; shared: SharedState }[];
}

const CLONEABLE_CLASSES: readonly (abstract new(...args: never[]) => unknown)[] = [
  Date,
  RegExp,
  ArrayBuffer,
  SharedArrayBuffer,
  Error,
  Boolean,
  Number,
  String,
  BigInt as never,
  ...(typeof Blob === "function" ? [Blob] : []),
];

/** A path inside a value as code would write it: `[1].cb`, `["a b"]`. */
export function describePath(path: readonly (string | number)[]): string {
  let out = "";
  for (const key of path) {
    out += typeof key === "number"
      ? `[${key}]`
      : /^[A-Za-z_$][\w$]*$/.test(key)
      ? `.${key}`
      : `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** Whether `value` is a plain object (its prototype is Object.prototype or null). */
export function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isCloneableInstance(value: object): boolean {
  return ArrayBuffer.isView(value) || CLONEABLE_CLASSES.some((c) => value instanceof c);
}

/**
 * Prepare `value` for another thread: replace shareable objects by their state and reject
 * what structured clone would refuse or silently damage (functions, symbols, class
 * instances), naming where it sits (`args[1].cb`). Identity is kept as structured clone
 * keeps it: an object or a shareable reached twice (`[o, o]`, a cycle) arrives as one.
 *
 * @param value the value to send
 * @param root the name the caller knows the value by, used in error messages
 * @throws {TypeError} when some part of `value` cannot be sent
 */
export function encode(value: unknown, root: string): Encoded {
  // Most values hold no shareable object: one walk checks them and they go as they are.
  // Only when one is found does a second walk copy the containers, so that every path to
  // a shareable object (through shared or cyclic containers too) leads to its marker.
  if (!check(value, root)) return { value };
  return replaceShared(value, root, "another thread", (v) => v[toShared]());
}

function replaceShared(
  value: unknown,
  root: string,
  where: string,
  describeShared: (v: Shareable) => SharedState,
): Encoded {
  const refs: { path: Path; shared: SharedState }[] = [];
  const copies = new Map<object, unknown>();
  const path: Path = [];
  const copy = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v;
    if (isShareable(v)) {
      // One state object per shareable: decode revives each state once, so the same lock
      // reached by two paths arrives as one object.
      let shared = copies.get(v) as SharedState | undefined;
      if (shared === undefined) {
        try {
          shared = describeShared(v);
        } catch (cause) {
          // A class's own refusal (a closed handle) goes as it is; a TypeError, which says
          // why the object cannot cross, gets the place it sits at.
          if (!(cause instanceof TypeError)) throw cause;
          throw new TypeError(`Cannot send ${root}${describePath(path)} to ${where}: ${cause.message}`, { cause });
        }
        copies.set(v, shared);
      }
      refs.push({ path: [...path], shared });
      return null;
    }
    if (copies.has(v)) return copies.get(v);
    if (Array.isArray(v)) {
      const out = v.slice();
      copies.set(v, out);
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        out[i] = copy(v[i]);
        path.pop();
      }
      return out;
    }
    if (isPlain(v)) {
      const out: Record<string, unknown> = { ...v };
      copies.set(v, out);
      for (const key of Object.keys(v)) {
        path.push(key);
        out[key] = copy((v as Record<string, unknown>)[key]);
        path.pop();
      }
      return out;
    }
    if ((v instanceof Map || v instanceof Set) && entriesOf(v).some((item) => holdsShareable(item, new Set()))) {
      throw new TypeError(
        `Cannot send ${root}${
          describePath(path)
        } to another thread: shareable objects cannot sit inside a Map or Set: use an array or a plain object`,
      );
    }
    return v;
  };
  const out = copy(value);
  return { value: out, refs };
}

function entriesOf(v: Map<unknown, unknown> | Set<unknown>): unknown[] {
  return v instanceof Map ? [...v.entries()].flat() : [...v];
}

function holdsShareable(v: unknown, seen: Set<object>): boolean {
  if (typeof v !== "object" || v === null || seen.has(v)) return false;
  if (isShareable(v)) return true;
  seen.add(v);
  if (v instanceof Map || v instanceof Set) return entriesOf(v).some((item) => holdsShareable(item, seen));
  if (Array.isArray(v) || isPlain(v)) return Object.values(v).some((item) => holdsShareable(item, seen));
  return false;
}

/**
 * Prepare `value` for another OS process: as {@linkcode encode}, but nothing that lives in
 * shared memory may go, since OS processes share none: a shareable object, a
 * SharedArrayBuffer or a view of one is refused, naming where it sits.
 *
 * @param value the value to send
 * @param root the name the caller knows the value by, used in error messages
 * @throws {TypeError} when some part of `value` cannot be sent to another process
 */
export function encodeForProcess(value: unknown, root: string): Encoded {
  if (!check(value, root, true)) return { value };
  return replaceShared(value, root, "another process", (v) => (v as ProcessShareable)[toProcess]());
}

/** A shareable object that can also reach another OS process. */
interface ProcessShareable extends Shareable {
  [toProcess](): SharedState;
}

function crossesProcesses(value: Shareable): value is ProcessShareable {
  return typeof (value as Partial<ProcessShareable>)[toProcess] === "function";
}

/**
 * Throw unless `value` can go to another OS process: nothing in shared memory, nothing
 * structured clone refuses. The message names where the culprit sits.
 *
 * @throws {TypeError} when some part of `value` cannot be sent to another process
 */
export function checkForProcess(value: unknown, root: string): void {
  if (check(value, root, true)) {
    throw new TypeError(
      `Cannot send ${root} to another process: a task's arguments may not hold shareable objects here; pass a manager proxy in initargs, or ${THREAD_ONLY}`,
    );
  }
}

const THREAD_ONLY = `use the thread context (getContext("thread")) to share it, or send plain data`;

/** Check that `value` can be sent; return whether it holds a shareable object. */
function check(value: unknown, root: string, forProcess = false): boolean {
  const seen = new Set<object>();
  const path: Path = [];
  let found = false;
  const where = forProcess ? "another process" : "another thread";

  const fail = (what: string): never => {
    throw new TypeError(`Cannot send ${root}${describePath(path)} to ${where}: ${what}`);
  };

  const walk = (v: unknown): void => {
    switch (typeof v) {
      case "function":
        return fail(
          `it is a function, and functions cannot be copied to ${where}: export it from a module and pass a task reference`,
        );
      case "symbol":
        return fail(`it is a symbol, and symbols cannot be copied to ${where}`);
      case "object":
        break;
      default:
        return;
    }
    if (v === null) return;
    if (isShareable(v)) {
      if (forProcess && !crossesProcesses(v)) {
        fail(
          `a ${
            v.constructor?.name ?? "shareable object"
          } lives in shared memory, which OS processes do not share: ${THREAD_ONLY}`,
        );
      }
      found = true;
      return;
    }
    if (
      forProcess && (v instanceof SharedArrayBuffer || (ArrayBuffer.isView(v) && v.buffer instanceof SharedArrayBuffer))
    ) {
      fail(`it lives in a SharedArrayBuffer, which OS processes do not share: ${THREAD_ONLY}`);
    }
    if (seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        walk(v[i]);
        path.pop();
      }
      return;
    }
    if (v instanceof Map || v instanceof Set) {
      for (const item of entriesOf(v)) walk(item);
      return;
    }
    if (isPlain(v)) {
      for (const key of Object.keys(v)) {
        path.push(key);
        walk((v as Record<string, unknown>)[key]);
        path.pop();
      }
      return;
    }
    if (isCloneableInstance(v)) return;
    if (typeof WeakMap === "function" && (v instanceof WeakMap || v instanceof WeakSet || v instanceof Promise)) {
      return fail(`a ${v.constructor.name} cannot be copied to ${where}`);
    }
    return fail(
      `it is an instance of class ${
        v.constructor?.name ?? "(anonymous)"
      }, which would arrive as a plain object without its methods: send plain data, or make the class shareable`,
    );
  };

  walk(value);
  return found;
}

function reviverFor(kind: string): Reviver | undefined {
  return revivers.get(kind);
}

function place(value: unknown, path: Path, live: unknown): unknown {
  if (path.length === 0) return live;
  let at = value as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) at = at[path[i]] as Record<string | number, unknown>;
  at[path[path.length - 1]] = live;
  return value;
}

/**
 * Rebuild a value sent with {@linkcode encode}, loading the modules of shareable classes
 * this thread has not seen yet.
 */
export async function decode(encoded: Encoded): Promise<unknown> {
  if (encoded.refs === undefined) return encoded.value;
  for (const { shared } of encoded.refs) {
    if (reviverFor(shared.kind) === undefined) await runtime.importModule(shared.module);
  }
  return decodeSync(encoded);
}

/**
 * Rebuild a value sent with {@linkcode encode} when every shareable class in it is
 * already loaded in this thread.
 *
 * @throws {TypeError} when a shareable class is unknown here
 */
export function decodeSync(encoded: Encoded): unknown {
  let value = encoded.value;
  // encode() gives a shareable reached twice one state object, and structured clone keeps
  // that identity, so reviving once per state object gives one live object per original.
  const live = new Map<SharedState, unknown>();
  for (const { path, shared } of encoded.refs ?? []) {
    if (!live.has(shared)) {
      const revive = reviverFor(shared.kind);
      if (revive === undefined) {
        throw new TypeError(
          `Cannot receive a shared "${shared.kind}": its module "${shared.module}" registered no such kind`,
        );
      }
      live.set(shared, revive(shared.state as never));
    }
    value = place(value, path, live.get(shared));
  }
  return value;
}

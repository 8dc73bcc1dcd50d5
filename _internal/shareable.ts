// The shareable-handle protocol. Structured clone carries a SharedArrayBuffer by
// reference but drops class identity, so a shareable object (a Lock, a Value, a Queue)
// describes itself as plain state, and the receiving thread rebuilds a live object of the
// same class over the same memory. The state says which module defines the class, so a
// worker that never imported it can load it before reviving.
import { runtime } from "../_runtime/mod.ts";

/** The method a shareable class implements to describe itself for another thread. */
export const toShared: unique symbol = Symbol.for("mproc.toShared") as never;

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

function describe(path: Path): string {
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

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isCloneableInstance(value: object): boolean {
  return ArrayBuffer.isView(value) || CLONEABLE_CLASSES.some((c) => value instanceof c);
}

/**
 * Prepare `value` for another thread: replace shareable objects by their state and reject
 * what structured clone would refuse or silently damage (functions, symbols, class
 * instances), naming where it sits (`args[1].cb`).
 *
 * @param value the value to send
 * @param root the name the caller knows the value by, used in error messages
 * @throws {TypeError} when some part of `value` cannot be sent
 */
export function encode(value: unknown, root: string): Encoded {
  const refs: { path: Path; shared: SharedState }[] = [];
  const seen = new Set<object>();
  const path: Path = [];

  const fail = (what: string): never => {
    throw new TypeError(`Cannot send ${root}${describe(path)} to another thread: ${what}`);
  };

  const walk = (v: unknown): unknown => {
    switch (typeof v) {
      case "function":
        return fail(
          `it is a function, and functions cannot be copied between threads: export it from a module and pass a task reference`,
        );
      case "symbol":
        return fail("it is a symbol, and symbols cannot be copied between threads");
      case "object":
        break;
      default:
        return v;
    }
    if (v === null) return v;
    if (isShareable(v)) {
      refs.push({ path: [...path], shared: v[toShared]() });
      return null;
    }
    if (seen.has(v)) return v;
    seen.add(v);
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        const item = walk(v[i]);
        path.pop();
        if (item !== v[i]) (copy ??= v.slice())[i] = item;
      }
      return copy ?? v;
    }
    if (v instanceof Map || v instanceof Set) {
      const entries = v instanceof Map ? [...v.entries()].flat() : [...v];
      for (const item of entries) {
        if (walk(item) !== item) {
          fail("shareable objects cannot sit inside a Map or Set: use an array or a plain object");
        }
      }
      return v;
    }
    if (isPlain(v)) {
      let copy: Record<string, unknown> | undefined;
      for (const key of Object.keys(v)) {
        path.push(key);
        const item = walk((v as Record<string, unknown>)[key]);
        path.pop();
        if (item !== (v as Record<string, unknown>)[key]) (copy ??= { ...v })[key] = item;
      }
      return copy ?? v;
    }
    if (isCloneableInstance(v)) return v;
    if (typeof WeakMap === "function" && (v instanceof WeakMap || v instanceof WeakSet || v instanceof Promise)) {
      return fail(`a ${v.constructor.name} cannot be copied between threads`);
    }
    return fail(
      `it is an instance of class ${
        v.constructor?.name ?? "(anonymous)"
      }, which would arrive as a plain object without its methods: send plain data, or make the class shareable`,
    );
  };

  const out = walk(value);
  return refs.length === 0 ? { value: out } : { value: out, refs };
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
  for (const { path, shared } of encoded.refs ?? []) {
    const revive = reviverFor(shared.kind);
    if (revive === undefined) {
      throw new TypeError(
        `Cannot receive a shared "${shared.kind}": its module "${shared.module}" registered no such kind`,
      );
    }
    value = place(value, path, revive(shared.state as never));
  }
  return value;
}

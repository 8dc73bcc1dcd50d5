// Arguments and results cross machines inside BullMQ jobs, which Redis stores as JSON.
// Structured-clone bytes (node:v8) would carry more, but Bun writes another format than
// Node and Deno, and the hosts of one queue may run different runtimes. So values travel
// as tagged JSON: JSON's own values stay as they are, and everything else becomes an
// array whose first element names what it is. Arrays are always tagged, so a tag can never
// be mistaken for data. Objects reached twice (and cycles) arrive as one object, as with
// structured clone.
import { type ErrorRecord, errorToRecord, recordToError } from "../_internal/error_record.ts";
import { describePath, isPlain, isShareable } from "../_internal/shareable.ts";

/** A value in its JSON-safe form. */
export type Wire = null | boolean | number | string | Wire[];

const TYPED: Record<string, new(buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

function toBase64(bytes: Uint8Array): string {
  let text = "";
  // String.fromCharCode takes its arguments on the stack: go in slices.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function fromBase64(text: string): ArrayBuffer {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

/**
 * Turn `value` into its JSON-safe form.
 *
 * @param root the name the caller knows the value by, for messages: `args`
 * @param offset added to the indexes of a top-level array in messages, for a chunk of a
 *   longer input (`iterable[120]`)
 * @throws {TypeError} naming the place (`args[1].lock`) of a value that cannot leave this
 *   machine: a function, a symbol, a SharedArrayBuffer, a lock, a shared value or a
 *   manager proxy, or an instance of a class of its own
 */
export function toWire(value: unknown, root: string, offset = 0): Wire {
  const ids = new Map<object, number>();
  const path: (string | number)[] = [];
  const fail = (what: string): never => {
    throw new TypeError(`Cannot send ${root}${describePath(path)} to another machine: ${what}`);
  };
  const walk = (v: unknown): Wire => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        if (Number.isFinite(v) && !Object.is(v, -0)) return v;
        return ["n", Object.is(v, -0) ? "-0" : String(v)];
      case "undefined":
        return ["u"];
      case "bigint":
        return ["b", v.toString()];
      case "function":
        return fail("it is a function: export it from a module and pass a task reference");
      case "symbol":
        return fail("it is a symbol");
    }
    if (v === null) return null;
    const o = v as object;
    const seen = ids.get(o);
    if (seen !== undefined) return ["r", seen];
    if (isShareable(o)) {
      return fail(
        `it is a shareable object (a lock, a shared value or a manager proxy), which lives in this machine's memory`,
      );
    }
    if (typeof SharedArrayBuffer === "function" && o instanceof SharedArrayBuffer) {
      return fail("a SharedArrayBuffer is memory of this machine: send a copy (an ArrayBuffer or a typed array)");
    }
    if (ArrayBuffer.isView(o) && typeof SharedArrayBuffer === "function" && o.buffer instanceof SharedArrayBuffer) {
      return fail("it is a view of a SharedArrayBuffer, memory of this machine: send a copy (slice() it)");
    }
    const id = ids.size;
    ids.set(o, id);
    if (Array.isArray(o)) {
      const out: Wire[] = ["a"];
      const base = path.length === 0 ? offset : 0;
      for (let i = 0; i < o.length; i++) {
        path.push(base + i);
        out.push(walk(o[i]));
        path.pop();
      }
      return out;
    }
    // A Map's or a Set's entries have no path that code could write; errors name the container.
    if (o instanceof Map) return ["m", ...[...o].flat().map(walk)];
    if (o instanceof Set) return ["s", ...[...o].map(walk)];
    if (o instanceof Date) return ["d", o.getTime()];
    if (o instanceof RegExp) return ["x", o.source, o.flags];
    if (o instanceof ArrayBuffer) return ["B", toBase64(new Uint8Array(o))];
    if (o instanceof DataView) return ["V", toBase64(new Uint8Array(o.buffer, o.byteOffset, o.byteLength))];
    if (ArrayBuffer.isView(o)) {
      const name = o.constructor.name;
      if (!Object.hasOwn(TYPED, name)) return fail(`a ${name} cannot be sent`);
      return ["t", name, toBase64(new Uint8Array(o.buffer, o.byteOffset, o.byteLength))];
    }
    if (o instanceof Error) return ["e", walk(errorToRecord(o))];
    if (isPlain(o)) {
      const out: Wire[] = ["o"];
      for (const key of Object.keys(o)) {
        path.push(key);
        out.push(key, walk((o as Record<string, unknown>)[key]));
        path.pop();
      }
      return out;
    }
    return fail(
      `it is an instance of class ${
        o.constructor?.name ?? "(anonymous)"
      }, which would arrive without its methods: send plain data`,
    );
  };
  return walk(value);
}

/**
 * Rebuild a value from its JSON-safe form.
 *
 * @throws {TypeError} when `wire` was not made by {@linkcode toWire}
 */
export function fromWire(wire: Wire): unknown {
  const objects: unknown[] = [];
  const bad = (): never => {
    throw new TypeError(`Cannot read a value sent by another machine: ${JSON.stringify(wire).slice(0, 200)}`);
  };
  const walk = (w: Wire): unknown => {
    if (!Array.isArray(w)) return w;
    switch (w[0]) {
      case "n":
        return w[1] === "-0" ? -0 : Number(w[1]);
      case "u":
        return undefined;
      case "b":
        return BigInt(w[1] as string);
      case "r":
        return (w[1] as number) < objects.length ? objects[w[1] as number] : bad();
    }
    // Every object takes its number before its children are read, as in toWire.
    const id = objects.length;
    objects.push(undefined);
    const keep = <T>(value: T): T => (objects[id] = value);
    switch (w[0]) {
      case "a": {
        const out = keep(new Array(w.length - 1));
        for (let i = 1; i < w.length; i++) out[i - 1] = walk(w[i]);
        return out;
      }
      case "o": {
        const out = keep({} as Record<string, unknown>);
        for (let i = 1; i < w.length; i += 2) {
          Object.defineProperty(out, w[i] as string, {
            value: walk(w[i + 1]),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return out;
      }
      case "m": {
        const out = keep(new Map());
        for (let i = 1; i < w.length; i += 2) out.set(walk(w[i]), walk(w[i + 1]));
        return out;
      }
      case "s": {
        const out = keep(new Set());
        for (let i = 1; i < w.length; i++) out.add(walk(w[i]));
        return out;
      }
      case "d":
        return keep(new Date(w[1] as number));
      case "x":
        return keep(new RegExp(w[1] as string, w[2] as string));
      case "B":
        return keep(fromBase64(w[1] as string));
      case "V":
        return keep(new DataView(fromBase64(w[1] as string)));
      case "t": {
        const Typed = Object.hasOwn(TYPED, w[1] as string) ? TYPED[w[1] as string] : bad();
        const buffer = fromBase64(w[2] as string);
        const size = (Typed as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
        return keep(new Typed(buffer, 0, buffer.byteLength / size));
      }
      case "e":
        return keep(recordToError(walk(w[1]) as ErrorRecord));
    }
    return bad();
  };
  return walk(wire);
}

// The manager's wire format: one message per frame, the same bytes whether the frame
// crosses a SharedArrayBuffer ring to a thread or a TCP socket to another machine.
//
//   request  u8 1, u32 call id (0: answer nothing), u32 object id, string method, value args
//   ok       u8 2, u32 call id, value result
//   error    u8 3, u32 call id, value error record
//   cancel   u8 4, u32 call id
//
// Values have their own tagged encoding for what managers carry most (numbers, strings,
// arrays, plain objects, Maps), because node:v8 costs 3-13 µs a call, more than a whole
// round trip should. Leaves structured clone understands (Date, typed arrays, bigint...)
// ride as v8 bytes. Manager proxies travel as tokens, anywhere in a value.
import { describePath } from "../_internal/shareable.ts";
import { deserialize, serialize } from "../_runtime/serialize.ts";

/** Message kinds. */
export const REQUEST = 1, OK = 2, ERROR = 3, CANCEL = 4;

/** Call id of a request that wants no answer (a reference count change). */
export const NO_REPLY = 0;

/** A proxy as it crosses the wire: which manager, which object, what it exposes. */
export interface ProxyToken {
  /** Manager id, unique per server. */
  uid: string;
  typeid: string;
  id: number;
  /** Method names of a user-registered object; `null` for built-in types. */
  methods: string[] | null;
}

/** How one side recognises its proxies when encoding and rebuilds them when decoding. */
export interface ProxyHooks {
  toToken(value: object): ProxyToken | undefined;
  fromToken(token: ProxyToken): unknown;
}

/** A decoded message. */
export type Message =
  | { kind: typeof REQUEST; id: number; object: number; method: string; args: unknown[] }
  | { kind: typeof OK; id: number; value: unknown }
  | { kind: typeof ERROR; id: number; value: unknown }
  | { kind: typeof CANCEL; id: number };

const T_UNDEFINED = 0, T_NULL = 1, T_FALSE = 2, T_TRUE = 3, T_INT = 4, T_FLOAT = 5, T_STRING = 6;
const T_ARRAY = 7, T_OBJECT = 8, T_MAP = 9, T_SET = 10, T_PROXY = 11, T_CLONE = 12;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Growable output buffer; one per side, reused for every frame. */
class Writer {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  pos = 0;

  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  string(s: string): void {
    const n = s.length;
    this.room(4 + n * 3);
    const start = this.pos + 4;
    let i = 0;
    // Most keys and method names are ASCII: copy them without the encoder's call cost.
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      this.buf[start + i] = c;
    }
    const len = i === n ? n : i + encoder.encodeInto(s.slice(i), this.buf.subarray(start + i)).written;
    this.view.setUint32(this.pos, len, true);
    this.pos = start + len;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Start a frame: its 4-byte length goes first, filled in by {@linkcode Writer.take}. */
  begin(): void {
    this.pos = 4;
  }

  /** Finish the frame; it is `buf[0, pos)`, length header included. */
  end(): number {
    this.view.setUint32(0, this.pos - 4, true);
    return this.pos;
  }
}

const CACHE_SLOTS = 256;
const CACHED_CHARS = 32;

// One reader per decoder, pointed at each frame in turn: a transport hands frames in one
// reused buffer, so the view over it is made once, not per message.
class Reader {
  // Method names and keys come again and again: the last short ASCII string seen in each
  // hash slot is handed out again when the bytes match, so decoding it allocates nothing.
  readonly #strings: string[] = new Array(CACHE_SLOTS).fill("");
  buf: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(this.buf.buffer);
  /** End of the frame in `buf`. */
  end = 0;
  pos = 0;

  reset(buf: Uint8Array, length: number): void {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    this.end = length;
    this.pos = 0;
  }

  /** Fail unless `n` more bytes are in the frame. */
  need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError("Cannot decode a manager message: it is truncated");
  }

  u8(): number {
    if (this.pos >= this.end) throw new RangeError("Cannot decode a manager message: it is truncated");
    return this.buf[this.pos++];
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  string(): string {
    const len = this.u32();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new RangeError("Cannot decode a manager message: a string runs past its end");
    const b = this.buf;
    this.pos = end;
    if (len <= CACHED_CHARS) {
      let h = len;
      let i = start;
      for (; i < end && b[i] < 0x80; i++) h = (h * 31 + b[i]) | 0;
      if (i === end) {
        const slot = h & (CACHE_SLOTS - 1);
        const known = this.#strings[slot];
        if (known.length === len) {
          let k = 0;
          while (k < len && known.charCodeAt(k) === b[start + k]) k++;
          if (k === len) return known;
        }
        let s = "";
        for (i = start; i < end; i++) s += String.fromCharCode(b[i]);
        this.#strings[slot] = s;
        return s;
      }
    }
    return decoder.decode(b.subarray(start, end));
  }

  bytes(): Uint8Array {
    const len = this.u32();
    if (this.pos + len > this.end) {
      throw new RangeError("Cannot decode a manager message: a value runs past its end");
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isCloneLeaf(v: object): boolean {
  return ArrayBuffer.isView(v) || v instanceof Date || v instanceof RegExp || v instanceof ArrayBuffer
    || v instanceof Error;
}

type Path = (string | number)[];

/** Encodes messages; `hooks` say which objects are proxies. */
export class MessageEncoder {
  readonly #w = new Writer();
  readonly #hooks: ProxyHooks;
  #root = "";
  readonly #path: Path = [];

  constructor(hooks: ProxyHooks) {
    this.#hooks = hooks;
  }

  /**
   * The frame the last `…Into` call made is `buffer[0, length)`; the buffer is reused
   * (and may be replaced) by the next call.
   */
  get buffer(): Uint8Array {
    return this.#w.buf;
  }

  /**
   * Make a request frame in {@linkcode MessageEncoder.buffer}; returns its length. Every
   * frame this encoder makes starts with its length, ready for any transport.
   *
   * @throws {TypeError} when an argument cannot be sent, naming where it sits
   */
  requestInto(id: number, object: number, method: string, args: unknown[]): number {
    const w = this.#w;
    w.begin();
    w.u8(REQUEST);
    w.u32(id);
    w.u32(object);
    w.string(method);
    this.#root = "args";
    this.#value(args);
    return w.end();
  }

  /** A request frame, as a copy the caller may keep. */
  request(id: number, object: number, method: string, args: unknown[]): Uint8Array {
    return this.#w.buf.slice(0, this.requestInto(id, object, method, args));
  }

  /**
   * Make a reply frame, ok or error, in {@linkcode MessageEncoder.buffer}; returns its length.
   *
   * @throws {TypeError} when the value cannot be sent
   */
  replyInto(kind: typeof OK | typeof ERROR, id: number, value: unknown): number {
    const w = this.#w;
    w.begin();
    w.u8(kind);
    w.u32(id);
    this.#root = "the result";
    this.#value(value);
    return w.end();
  }

  /** A reply frame, as a copy the caller may keep. */
  reply(kind: typeof OK | typeof ERROR, id: number, value: unknown): Uint8Array {
    return this.#w.buf.slice(0, this.replyInto(kind, id, value));
  }

  /** A cancel frame. */
  cancel(id: number): Uint8Array {
    const w = this.#w;
    w.begin();
    w.u8(CANCEL);
    w.u32(id);
    return w.buf.slice(0, w.end());
  }

  #fail(what: string): never {
    const path = this.#path.splice(0);
    throw new TypeError(`Cannot send ${this.#root}${describePath(path)} to the manager: ${what}`);
  }

  #value(v: unknown): void {
    const w = this.#w;
    switch (typeof v) {
      case "undefined":
        return w.u8(T_UNDEFINED);
      case "boolean":
        return w.u8(v ? T_TRUE : T_FALSE);
      case "number":
        if ((v | 0) === v && !Object.is(v, -0)) {
          w.u8(T_INT);
          w.room(4);
          w.view.setInt32(w.pos, v, true);
          w.pos += 4;
        } else {
          w.u8(T_FLOAT);
          w.room(8);
          w.view.setFloat64(w.pos, v, true);
          w.pos += 8;
        }
        return;
      case "string":
        w.u8(T_STRING);
        return w.string(v);
      case "bigint":
        w.u8(T_CLONE);
        return w.bytes(serialize(v));
      case "function":
        return this.#fail("it is a function, and functions cannot be copied to another thread or machine");
      case "symbol":
        return this.#fail("it is a symbol, and symbols cannot be copied");
    }
    if (v === null) return w.u8(T_NULL);
    const o = v as object;
    const token = this.#hooks.toToken(o);
    if (token !== undefined) {
      w.u8(T_PROXY);
      w.string(token.uid);
      w.string(token.typeid);
      w.u32(token.id);
      if (token.methods === null) w.u32(0xffffffff);
      else {
        w.u32(token.methods.length);
        for (const m of token.methods) w.string(m);
      }
      return;
    }
    const path = this.#path;
    if (Array.isArray(o)) {
      w.u8(T_ARRAY);
      w.u32(o.length);
      for (let i = 0; i < o.length; i++) {
        path.push(i);
        this.#value(o[i]);
        path.pop();
      }
      return;
    }
    if (o instanceof Map) {
      w.u8(T_MAP);
      w.u32(o.size);
      for (const [k, item] of o) {
        path.push(String(k));
        this.#value(k);
        this.#value(item);
        path.pop();
      }
      return;
    }
    if (o instanceof Set) {
      w.u8(T_SET);
      w.u32(o.size);
      for (const item of o) this.#value(item);
      return;
    }
    if (isPlain(o)) {
      const keys = Object.keys(o);
      w.u8(T_OBJECT);
      w.u32(keys.length);
      for (const k of keys) {
        path.push(k);
        w.string(k);
        this.#value((o as Record<string, unknown>)[k]);
        path.pop();
      }
      return;
    }
    if (isCloneLeaf(o)) {
      let bytes: Uint8Array;
      try {
        bytes = serialize(o);
      } catch (cause) {
        return this.#fail(`it cannot be copied: ${(cause as Error)?.message ?? cause}`);
      }
      w.u8(T_CLONE);
      return w.bytes(bytes);
    }
    return this.#fail(
      `it is an instance of class ${
        o.constructor?.name ?? "(anonymous)"
      }, which would arrive without its methods: send plain data, or keep the object in the manager (register a type)`,
    );
  }
}

/** Decodes messages; `hooks` rebuild proxies. */
export class MessageDecoder {
  readonly #hooks: ProxyHooks;
  readonly #r = new Reader();

  constructor(hooks: ProxyHooks) {
    this.#hooks = hooks;
  }

  /**
   * Decode one frame, `frame[0, length)`, without its length header.
   *
   * @throws {RangeError} when the frame is malformed or truncated
   */
  decode(frame: Uint8Array, length: number = frame.length): Message {
    const r = this.#r;
    r.reset(frame, length);
    try {
      const kind = r.u8();
      const id = r.u32();
      let out: Message;
      if (kind === REQUEST) {
        const object = r.u32();
        const method = r.string();
        const args = this.#value(r);
        if (!Array.isArray(args)) throw new RangeError("Cannot decode a manager request: its arguments are not a list");
        out = { kind, id, object, method, args };
      } else if (kind === OK || kind === ERROR) out = { kind, id, value: this.#value(r) };
      else if (kind === CANCEL) out = { kind, id };
      else throw new RangeError(`Cannot decode a manager message: unknown kind ${kind}`);
      if (r.pos !== length) throw new RangeError("Cannot decode a manager message: bytes are left over");
      return out;
    } catch (error) {
      if (error instanceof RangeError) throw error;
      throw new RangeError(`Cannot decode a manager message: ${(error as Error)?.message ?? error}`);
    }
  }

  #value(r: Reader): unknown {
    const tag = r.u8();
    switch (tag) {
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_INT: {
        r.need(4);
        const v = r.view.getInt32(r.pos, true);
        r.pos += 4;
        return v;
      }
      case T_FLOAT: {
        r.need(8);
        const v = r.view.getFloat64(r.pos, true);
        r.pos += 8;
        return v;
      }
      case T_STRING:
        return r.string();
      case T_ARRAY: {
        const n = r.u32();
        if (n > r.end - r.pos) throw new RangeError("Cannot decode a manager message: a list runs past its end");
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.#value(r);
        return out;
      }
      case T_OBJECT: {
        const n = r.u32();
        const out: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const k = r.string();
          const v = this.#value(r);
          if (k === "__proto__") Object.defineProperty(out, k, { value: v, enumerable: true, writable: true });
          else out[k] = v;
        }
        return out;
      }
      case T_MAP: {
        const n = r.u32();
        const out = new Map();
        for (let i = 0; i < n; i++) {
          const k = this.#value(r);
          out.set(k, this.#value(r));
        }
        return out;
      }
      case T_SET: {
        const n = r.u32();
        const out = new Set();
        for (let i = 0; i < n; i++) out.add(this.#value(r));
        return out;
      }
      case T_PROXY: {
        const uid = r.string();
        const typeid = r.string();
        const id = r.u32();
        const count = r.u32();
        let methods: string[] | null = null;
        if (count !== 0xffffffff) {
          methods = [];
          for (let i = 0; i < count; i++) methods.push(r.string());
        }
        return this.#hooks.fromToken({ uid, typeid, id, methods });
      }
      case T_CLONE:
        return deserialize(r.bytes().slice());
      default:
        throw new RangeError(`Cannot decode a manager message: unknown value tag ${tag}`);
    }
  }
}

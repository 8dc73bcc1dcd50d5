// The frames of a process-context pipe (see _pipe_hub.ts). After a little-endian u32
// length, each frame has a 12-byte head: op, two small fields, a pad byte, and
// two u32 fields (a handle or pipe id, a request id), then a body. An item's body is its
// record payload from _codec.ts, so a pipe carries values exactly as the thread pipe does.
import { BYTES, CONST, fromBytes, type Msg, NUM, STR16, STR8, toMsg, TYPED } from "./_codec.ts";

// Client to hub.
/** Register handle `x` of pipe `y`, end `a`; the body is the ticket it takes over, if any. */
export const OPEN = 1;
/** Close handle `x`. */
export const CLOSE = 2;
/** Reserve a handle of the end of handle `x` for a copy in flight; the body is its ticket. */
export const DUP = 3;
/** Send an item (tag `a`, sub `b`) from handle `x`. */
export const SEND = 4;
/** Request `y` of handle `x`: mode `a`; the body is the timeout (f64, -1: none) and maxlength (u32). */
export const GET = 5;
/** Cancel request `y` of handle `x`. */
export const CANCEL = 6;
/** Give back an item (tag `a`, sub `b`) handle `x` received but did not use: it goes first. */
export const UNGET = 7;
/** Handle `x` waits for room: credit what was read of its sends once that is `y` bytes or more. */
export const ROOM = 16;
/**
 * Request `y` of queue handle `x`: put an item (tag `a`, sub `b`), waiting for room; the
 * body is the timeout (f64, -1: none, 0: do not wait) and then the item's bytes.
 */
export const QPUT = 17;
/** Request `y` of queue handle `x`: the queue's state (answered by OK). */
export const QSTAT = 18;
/** Request `y` of queue handle `x`: close the queue for every handle. */
export const QCLOSE = 19;
/** Request `y` of queue handle `x`: mark one item done (JoinableQueue). */
export const QDONE = 20;
/** Request `y` of queue handle `x`: wait until every item put is marked done. */
export const QJOIN = 21;

// Hub to client.
/** The item (tag `a`, sub `b`) answering request `y`. */
export const ITEM = 8;
/** Request `y`: nothing is left and every handle of the other end is closed. */
export const EOF = 9;
/** Request `y` waited its whole timeout. */
export const TIMEOUT = 10;
/** Request `y` (a poll): an item or the end is there. */
export const READY = 11;
/** Request `y` was cancelled before it was answered. */
export const CANCELLED = 12;
/** Request `y` (bytes): the next item is not bytes (`a` 1) or is `x` bytes, too long (`a` 2). */
export const REFUSED = 13;
/** Every handle of end `a` of pipe `y` is closed: sends to it fail. */
export const GONE = 14;
/**
 * `y` bytes sent from handle `x` have left the pipe (read, or dropped with their end).
 * Sent only to a handle that asked (ROOM): a process that only sends then has nothing
 * unread when it ends, which would make Linux reset the socket and lose what it sent.
 */
export const ACK = 15;
/** Request `y` (a queue's) is done: the queue holds `x` items; `a` 1 if closed, `b` 1 if full. */
export const OK = 22;
/** Request `y` (a queue's put) failed: the queue is closed. */
export const CLOSED = 23;

/** GET modes. */
export const TAKE = 0;
export const PEEK = 1;
export const TAKE_BYTES = 2;

/** No maxlength. */
export const ANY_LENGTH = 0xffffffff;

const HEAD = 12;
/** Largest frame accepted: a larger length means the stream is not one of ours. */
const MAX_FRAME = 1024 * 1024 * 1024;

/** One decoded frame. */
export interface Frame {
  op: number;
  a: number;
  b: number;
  x: number;
  y: number;
  body: Uint8Array;
}

/** An item as it travels: its record tag and sub-tag, and its payload. */
export interface Item {
  tag: number;
  sub: number;
  body: Uint8Array;
}

const EMPTY: Uint8Array = new Uint8Array(0);
const utf8 = new TextEncoder();

/**
 * Read a frame (without its length prefix).
 *
 * @throws {RangeError} when it is shorter than a head
 */
export function readFrame(bytes: Uint8Array): Frame {
  if (bytes.length < HEAD) throw new RangeError(`Cannot read a pipe frame of ${bytes.length} bytes`);
  // Bytes read by hand: a DataView per frame cost more than the rest of the frame.
  return {
    op: bytes[0],
    a: bytes[1],
    b: bytes[2],
    x: (bytes[4] | bytes[5] << 8 | bytes[6] << 16 | bytes[7] << 24) >>> 0,
    y: (bytes[8] | bytes[9] << 8 | bytes[10] << 16 | bytes[11] << 24) >>> 0,
    body: bytes.subarray(HEAD),
  };
}

/**
 * Frames appended to one growing buffer, taken out as one write: a sender in a loop costs
 * no allocation per frame (typed-array allocations and their collection dominated the
 * cost of a small send).
 */
export class FrameWriter {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  /** Bytes waiting to be taken. */
  get length(): number {
    return this.#len;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    bigger.set(this.#buf.subarray(0, this.#len));
    this.#buf = bigger;
    this.#view = new DataView(bigger.buffer);
  }

  #head(at: number, op: number, x: number, y: number, a: number, b: number, bodyLength: number): void {
    const buf = this.#buf;
    this.#view.setUint32(at, HEAD + bodyLength, true);
    buf[at + 4] = op;
    buf[at + 5] = a;
    buf[at + 6] = b;
    buf[at + 7] = 0;
    this.#view.setUint32(at + 8, x, true);
    this.#view.setUint32(at + 12, y, true);
  }

  /** Append a frame. */
  add(op: number, x: number, y: number, a: number, b: number, body: Uint8Array): void {
    this.#reserve(4 + HEAD + body.length);
    this.#head(this.#len, op, x, y, a, b, body.length);
    this.#buf.set(body, this.#len + 4 + HEAD);
    this.#len += 4 + HEAD + body.length;
  }

  /** Append a frame carrying the item `m` (its tag and sub-tag in `a` and `b`); returns its body's length. */
  addMsg(op: number, x: number, y: number, m: Msg): number {
    const at = this.#len;
    const start = at + 4 + HEAD;
    switch (m.tag) {
      case NUM:
        this.#reserve(4 + HEAD + 8);
        this.#head(at, op, x, y, NUM, 0, 8);
        this.#view.setFloat64(start, m.num, true);
        this.#len = start + 8;
        return 8;
      case STR16: {
        this.#reserve(4 + HEAD + m.str.length * 3);
        const { written } = utf8.encodeInto(m.str, this.#buf.subarray(start));
        this.#head(at, op, x, y, STR8, m.sub, written);
        this.#len = start + written;
        return written;
      }
      case CONST:
        this.#reserve(4 + HEAD);
        this.#head(at, op, x, y, CONST, m.sub, 0);
        this.#len = start;
        return 0;
      default:
        this.add(op, x, y, m.tag, m.sub, m.bytes!);
        return m.bytes!.length;
    }
  }

  /** The frames appended since the last take, as one buffer of their own. */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.#len);
    this.#len = 0;
    return out;
  }
}

/**
 * Frames from a byte stream that arrives in chunks of any size. A frame's body views the
 * chunk it came in (chunks are never reused), so it stays valid after the call.
 */
export class FrameReader {
  #rest: Uint8Array = EMPTY;

  /**
   * Take one chunk and call `onFrame` for each whole frame.
   *
   * @throws {RangeError} when a frame is malformed
   */
  push(chunk: Uint8Array, onFrame: (f: Frame) => void): void {
    let data = chunk;
    if (this.#rest.length > 0) {
      data = new Uint8Array(this.#rest.length + chunk.length);
      data.set(this.#rest);
      data.set(chunk, this.#rest.length);
    }
    let pos = 0;
    while (data.length - pos >= 4) {
      const length = (data[pos] | data[pos + 1] << 8 | data[pos + 2] << 16 | data[pos + 3] << 24) >>> 0;
      if (length > MAX_FRAME) throw new RangeError(`Cannot read a pipe frame of ${length} bytes`);
      if (data.length - pos - 4 < length) break;
      onFrame(readFrame(data.subarray(pos + 4, pos + 4 + length)));
      pos += 4 + length;
    }
    this.#rest = pos === data.length ? EMPTY : data.subarray(pos);
  }
}

/** The body of a GET. */
export function getBody(timeout: number | undefined, maxlength: number | undefined): Uint8Array {
  const body = new Uint8Array(12);
  const view = new DataView(body.buffer);
  view.setFloat64(0, timeout === undefined || timeout === Infinity ? -1 : timeout, true);
  view.setUint32(8, maxlength ?? ANY_LENGTH, true);
  return body;
}

/** Read a GET body: the timeout (`Infinity` for none) and maxlength. */
export function readGetBody(body: Uint8Array): { timeout: number; maxlength: number } {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const timeout = view.getFloat64(0, true);
  return { timeout: timeout < 0 ? Infinity : timeout, maxlength: view.getUint32(8, true) };
}

/**
 * The record of `value`, before anything is sent.
 *
 * @throws {TypeError} when the value cannot be copied to another process
 */
export function itemMsg(value: unknown): Msg {
  return toMsg(value, "the item");
}

/** An item for a record. */
export function msgItem(m: Msg): Item {
  switch (m.tag) {
    case NUM: {
      const body = new Uint8Array(8);
      new DataView(body.buffer).setFloat64(0, m.num, true);
      return { tag: NUM, sub: 0, body };
    }
    case STR16:
      return { tag: STR8, sub: m.sub, body: utf8.encode(m.str) };
    case CONST:
      return { tag: CONST, sub: m.sub, body: EMPTY };
    default:
      return { tag: m.tag, sub: m.sub, body: m.bytes! };
  }
}

const CONSTS = [undefined, null, false, true];
// Little-endian hosts only, as the rest of the wire (and every runtime's target) is.
const NUM_VIEW = new Float64Array(1);
const NUM_BYTES = new Uint8Array(NUM_VIEW.buffer);

/** The value an item holds. */
export function fromItem(item: Item): unknown {
  const body = item.body;
  switch (item.tag) {
    case NUM:
      for (let i = 0; i < 8; i++) NUM_BYTES[i] = body[i];
      return NUM_VIEW[0];
    case CONST:
      return CONSTS[item.sub];
    default:
      // Bytes handed out own their buffer, as the thread pipe's do.
      return fromBytes(item.tag, item.sub, body, body.byteOffset === 0 && body.byteLength === body.buffer.byteLength);
  }
}

/** Whether an item is bytes to `recvBytes`. */
export function isBytes(tag: number): boolean {
  return tag === BYTES || tag === TYPED;
}

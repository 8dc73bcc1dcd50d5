import { checkTimeout } from "../_internal/deadline.ts";
import { identity } from "../_internal/identity.ts";
import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { BufferTooShortError, EOFError, InvalidStateError, TimeoutError } from "../errors.ts";
import { BYTES, TYPED } from "./_codec.ts";
import { adoptConnection, anyAlive, type ConnectionState, freeSlot, OPEN, takeAdopted, takeSlot } from "./_handles.ts";
import {
  type BlockingOptions,
  type Failure,
  getAsync,
  getSync,
  pollAsync,
  pollSync,
  putAsync,
  putSync,
  rings,
} from "./_ops.ts";
import { DEAF, ENDED, REFUSED, Ring } from "./_ring.ts";

/** Options of a send or a receive: a bound on the wait, and a signal. */
export type ConnectionOptions = Omit<BlockingOptions, "block">;

// A connection dropped without close() gives its handle back when collected.
const finalizer = new FinalizationRegistry<{ ends: Int32Array; end: number; slot: number; rings: Ring[] }>(
  ({ ends, end, slot, rings }) => {
    freeSlot(ends, end, slot);
    for (const ring of rings) ring.wakeAll();
  },
);

const KIND = "ipc.Connection";

/**
 * One end of a {@linkcode Pipe}, like Python's `multiprocessing.connection.Connection`.
 * Messages travel through a ring of bytes in shared memory in each direction. Each
 * Connection object is a handle: a copy passed to another thread in `args` is a handle
 * of its own, so closing one copy leaves the others open. A handle stays open until it
 * is closed, garbage-collected, or its thread ends; at most 64 handles of one end are
 * open at once. A receive fails with `EOFError` once every handle of the other end is
 * closed, or held by threads that have ended, and nothing is left to read.
 *
 * @typeParam T the messages' type
 * @example Usage
 * ```ts
 * import { Pipe } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const [a, b] = Pipe<string>();
 * await a.send("ping");
 * assert.equal(await b.recv(), "ping");
 * b.close();
 * await assert.rejects(a.recv(), { name: "EOFError" });
 * a.close();
 * ```
 */
export class Connection<T = unknown> implements Disposable {
  readonly #ends: Int32Array;
  readonly #end: number;
  readonly #slot: number;
  readonly #input: Ring | null;
  readonly #output: Ring | null;
  #closed = false;

  /** Connections come from {@linkcode Pipe}; this constructor is not for direct use. */
  constructor() {
    const state = takeAdopted();
    if (state === undefined) throw new TypeError("Cannot create a Connection directly: call Pipe()");
    this.#ends = new Int32Array(state.ends);
    this.#end = state.end;
    const me = identity().ident;
    // A revived copy takes over the slot its sender claimed for it; a copy revived twice
    // (one state sent to several threads) takes a slot of its own.
    this.#slot = state.slot >= 0 && Atomics.compareExchange(this.#ends, state.slot, state.sender, me) === state.sender
      ? state.slot
      : takeSlot(this.#ends, this.#end, me);
    const peer = 1 - this.#end;
    const ends = this.#ends;
    const peerGone = () => !anyAlive(ends, peer);
    this.#input = state.input === null ? null : new Ring(state.input);
    this.#output = state.output === null ? null : new Ring(state.output);
    if (this.#input !== null) {
      this.#input.ends = { deaf: () => false, ended: peerGone };
      rings.set(this, this.#input);
    }
    if (this.#output !== null) {
      this.#output.ends = {
        deaf: (waiting) => waiting ? peerGone() : Atomics.load(ends, OPEN + peer) === 0,
        ended: () => false,
      };
    }
    const all = [this.#input, this.#output].filter((r) => r !== null);
    finalizer.register(this, { ends, end: this.#end, slot: this.#slot, rings: all }, this);
  }

  /** Whether {@linkcode Connection.close} was called on this handle. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether this end can receive. */
  get readable(): boolean {
    return this.#input !== null;
  }

  /** Whether this end can send. */
  get writable(): boolean {
    return this.#output !== null;
  }

  /**
   * Send `obj` to the other end; waits only while the pipe's buffer is full.
   *
   * @param obj anything structured clone copies; numbers, strings and typed arrays travel fastest
   * @param options `timeout` (ms) and `signal` for a wait on a full buffer
   * @throws {EOFError} when every handle of the other end is closed
   * @throws {TypeError} when `obj` cannot be copied
   * @throws {InvalidStateError} when this handle is closed or read-only
   */
  send(obj: T, options?: ConnectionOptions): Promise<void> {
    try {
      return putAsync(this.#writer("send"), obj, options, "send on connection", this.#sendFailure(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Send `obj`, blocking this thread while the pipe's buffer is full.
   *
   * @throws {EOFError} when every handle of the other end is closed
   * @throws {TypeError} when `obj` cannot be copied, or this thread may not block
   */
  sendSync(obj: T, options?: ConnectionOptions): void {
    putSync(
      this.#writer("send"),
      obj,
      options,
      "send on connection",
      "Connection.sendSync()",
      "await connection.send()",
      this.#sendFailure(options),
    );
  }

  /**
   * Receive the next message, waiting until one comes.
   *
   * @param options `timeout` (ms) and `signal`
   * @returns the message
   * @throws {EOFError} when nothing is left and every handle of the other end is closed
   * @throws {TimeoutError} when the timeout passes first
   * @throws {InvalidStateError} when this handle is closed or write-only
   */
  recv(options?: ConnectionOptions): Promise<T> {
    try {
      return getAsync<T>(this.#reader("receive"), options, "receive on connection", this.#recvFailure(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Receive the next message, blocking this thread until one comes.
   *
   * @throws {EOFError} when nothing is left and every handle of the other end is closed
   * @throws {TimeoutError} when the timeout passes first
   * @throws {TypeError} when this thread may not block; use {@linkcode Connection.recv}
   */
  recvSync(options?: ConnectionOptions): T {
    return getSync<T>(
      this.#reader("receive"),
      options,
      "receive on connection",
      "Connection.recvSync()",
      "await connection.recv()",
      this.#recvFailure(options),
    );
  }

  /**
   * Send bytes from `buf` as one message: `size` bytes from byte `offset`.
   *
   * @param buf the bytes (any typed array, DataView or ArrayBuffer)
   * @param offset first byte to send
   * @param size bytes to send; all from `offset` by default
   * @throws {RangeError} when `offset` or `size` fall outside `buf`
   * @throws {EOFError} when every handle of the other end is closed
   */
  sendBytes(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number): Promise<void> {
    try {
      const bytes = byteRange(buf, offset, size);
      return putAsync(this.#writer("send bytes"), bytes, undefined, "send bytes", this.#sendFailure(undefined), true);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Send bytes from `buf`, blocking this thread while the pipe's buffer is full.
   *
   * @throws {RangeError} when `offset` or `size` fall outside `buf`
   * @throws {EOFError} when every handle of the other end is closed
   */
  sendBytesSync(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number): void {
    putSync(
      this.#writer("send bytes"),
      byteRange(buf, offset, size),
      undefined,
      "send bytes",
      "Connection.sendBytesSync()",
      "await connection.sendBytes()",
      this.#sendFailure(undefined),
      true,
    );
  }

  /**
   * Receive the next message as bytes: one sent with `sendBytes`, or a typed array.
   *
   * @param maxlength the longest message accepted, in bytes
   * @returns a copy of the message's bytes
   * @throws {RangeError} when the message is longer than `maxlength`; it stays in the pipe
   * @throws {TypeError} when the next message is not bytes; it stays in the pipe, for `recv()`
   * @throws {EOFError} when nothing is left and every handle of the other end is closed
   */
  async recvBytes(maxlength?: number, options?: ConnectionOptions): Promise<Uint8Array> {
    const ring = this.#reader("receive bytes");
    const [check, refused] = bytesCheck(maxlength);
    const v = await getAsync<ArrayBufferView>(
      ring,
      options,
      "receive bytes",
      this.#recvFailure(options, refused),
      check,
    );
    return asBytes(v);
  }

  /**
   * Receive the next message as bytes, blocking this thread until one comes.
   *
   * @throws {RangeError} when the message is longer than `maxlength`; it stays in the pipe
   * @throws {TypeError} when the next message is not bytes, or this thread may not block
   * @throws {EOFError} when nothing is left and every handle of the other end is closed
   */
  recvBytesSync(maxlength?: number, options?: ConnectionOptions): Uint8Array {
    const ring = this.#reader("receive bytes");
    const [check, refused] = bytesCheck(maxlength);
    return asBytes(getSync<ArrayBufferView>(
      ring,
      options,
      "receive bytes",
      "Connection.recvBytesSync()",
      "await connection.recvBytes()",
      this.#recvFailure(options, refused),
      check,
    ));
  }

  /**
   * Receive the next bytes message into `buf` from byte `offset`, like Python's
   * `recv_bytes_into`.
   *
   * @param buf where to write (any typed array, DataView or ArrayBuffer)
   * @param offset first byte of `buf` to write
   * @returns the message's length in bytes
   * @throws {BufferTooShortError} when the message does not fit; its `data` holds the whole message
   * @throws {EOFError} when nothing is left and every handle of the other end is closed
   */
  async recvBytesInto(buf: ArrayBufferView | ArrayBuffer, offset = 0, options?: ConnectionOptions): Promise<number> {
    const target = byteRange(buf, offset, undefined);
    return copyInto(await this.recvBytes(undefined, options), target);
  }

  /**
   * The same, blocking this thread until a message comes.
   *
   * @throws {BufferTooShortError} when the message does not fit; its `data` holds the whole message
   * @throws {EOFError} when nothing is left and every handle of the other end is closed
   */
  recvBytesIntoSync(buf: ArrayBufferView | ArrayBuffer, offset = 0, options?: ConnectionOptions): number {
    const target = byteRange(buf, offset, undefined);
    return copyInto(this.recvBytesSync(undefined, options), target);
  }

  /**
   * Whether a message, or the end of the pipe, waits to be read, after waiting up to
   * `timeout` ms (0: look now; `Infinity`: as long as it takes).
   *
   * @throws {RangeError} when the timeout is negative or NaN
   */
  poll(timeout: number | undefined = 0, options?: { signal?: AbortSignal }): Promise<boolean> {
    try {
      checkTimeout(timeout, "poll connection");
      return pollAsync(this.#reader("poll"), timeout ?? Infinity, options?.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The same, blocking this thread while it waits.
   *
   * @throws {RangeError} when the timeout is negative or NaN
   */
  pollSync(timeout: number | undefined = 0): boolean {
    checkTimeout(timeout, "poll connection");
    return pollSync(this.#reader("poll"), timeout ?? Infinity, "Connection.pollSync()", "await connection.poll()");
  }

  /**
   * Close this handle. The other end sees EOF once every handle of this end is closed.
   * Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    finalizer.unregister(this);
    freeSlot(this.#ends, this.#end, this.#slot);
    // Wake the other end's sleepers so they see the end now rather than after a slice.
    this.#input?.wakeAll();
    this.#output?.wakeAll();
  }

  /** Close this handle, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** A short description, like Python's repr. */
  toString(): string {
    const mode = this.readable && this.writable ? "duplex" : this.readable ? "read" : "write";
    return `<Connection(${mode}${this.#closed ? ", closed" : ""})>`;
  }

  /**
   * Describe this handle for another thread; the copy there is a handle of its own.
   *
   * @throws {InvalidStateError} when this handle is closed
   */
  [toShared](): SharedState {
    if (this.#closed) throw new InvalidStateError("Cannot send a closed connection to another thread");
    const me = identity().ident;
    const slot = takeSlot(this.#ends, this.#end, me);
    return {
      kind: KIND,
      module: import.meta.url,
      state: {
        ends: this.#ends.buffer as SharedArrayBuffer,
        end: this.#end,
        slot,
        sender: me,
        input: this.#input?.state() ?? null,
        output: this.#output?.state() ?? null,
      } satisfies ConnectionState,
    };
  }

  #writer(what: string): Ring {
    if (this.#closed) throw new InvalidStateError(`Cannot ${what} on connection: it is closed`);
    if (this.#output === null) throw new InvalidStateError(`Cannot ${what} on connection: it is read-only`);
    return this.#output;
  }

  #reader(what: string): Ring {
    if (this.#closed) throw new InvalidStateError(`Cannot ${what} on connection: it is closed`);
    if (this.#input === null) throw new InvalidStateError(`Cannot ${what} on connection: it is write-only`);
    return this.#input;
  }

  #sendFailure(options: ConnectionOptions | undefined): Failure {
    return (r) =>
      r === DEAF
        ? new EOFError("Cannot send on connection: every handle of the other end is closed")
        : new TimeoutError(`Cannot send on connection: the pipe stayed full for ${options?.timeout} ms`);
  }

  #recvFailure(options: ConnectionOptions | undefined, refused?: () => Error): Failure {
    return (r) =>
      r === ENDED
        ? new EOFError("Cannot receive on connection: the other end is closed and nothing is left to read")
        : r === REFUSED && refused !== undefined
        ? refused()
        : new TimeoutError(`Cannot receive on connection: nothing came within ${options?.timeout} ms`);
  }
}

function byteRange(buf: ArrayBufferView | ArrayBuffer, offset: number, size: number | undefined): Uint8Array {
  const all = buf instanceof ArrayBuffer || buf instanceof SharedArrayBuffer
    ? new Uint8Array(buf)
    : ArrayBuffer.isView(buf)
    ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
    : undefined;
  if (all === undefined) {
    throw new TypeError(`Cannot send bytes: expected a typed array, DataView or ArrayBuffer, got ${typeof buf}`);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > all.length) {
    throw new RangeError(`Cannot send bytes: offset ${offset} is outside the buffer's ${all.length} bytes`);
  }
  const n = size ?? all.length - offset;
  if (!Number.isInteger(n) || n < 0 || offset + n > all.length) {
    throw new RangeError(
      `Cannot send bytes: size ${size} from offset ${offset} runs past the buffer's ${all.length} bytes`,
    );
  }
  return all.subarray(offset, offset + n);
}

function bytesCheck(maxlength: number | undefined): [(tag: number, len: number) => boolean, () => Error] {
  if (maxlength !== undefined && (!Number.isInteger(maxlength) || maxlength < 0)) {
    throw new RangeError(`Cannot receive bytes: maxlength must be a non-negative integer, got ${maxlength}`);
  }
  let why: Error = new TypeError("Cannot receive bytes");
  const check = (tag: number, len: number): boolean => {
    if (tag !== BYTES && tag !== TYPED) {
      why = new TypeError("Cannot receive bytes: the next message is not bytes; it stays in the pipe, use recv()");
      return false;
    }
    if (maxlength !== undefined && len > maxlength) {
      why = new RangeError(
        `Cannot receive bytes: the next message is ${len} bytes, longer than maxlength ${maxlength}; it stays in the pipe`,
      );
      return false;
    }
    return true;
  };
  return [check, () => why];
}

function copyInto(message: Uint8Array, target: Uint8Array): number {
  if (message.length > target.length) {
    throw new BufferTooShortError(
      `Cannot receive bytes into the buffer: the message is ${message.length} bytes, the buffer has room for ${target.length}; the message is in the error's data`,
      message,
    );
  }
  target.set(message);
  return message.length;
}

function asBytes(v: ArrayBufferView): Uint8Array {
  return v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

registerShareable(KIND, (state: ConnectionState) => {
  adoptConnection(state);
  return new Connection();
});

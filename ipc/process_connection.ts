import { checkTimeout } from "../_internal/deadline.ts";
import { registerShareable, type SharedState, toProcess, toShared } from "../_internal/shareable.ts";
import { BufferTooShortError, EOFError, InvalidStateError, TimeoutError } from "../errors.ts";
import { bytesToMsg } from "./_codec.ts";
import { localHub } from "./_pipe_hub.ts";
import { type Handle, type Link, linkTo, TAKE, TAKE_BYTES } from "./_pipe_link.ts";
import { EOF, type Frame, fromItem, ITEM, itemMsg, PEEK, READY, REFUSED, TIMEOUT } from "./_pipe_wire.ts";
import { pollers } from "./_pollers.ts";

/** Options of a send or a receive on a {@linkcode ProcessConnection}: a bound on the wait, and a signal. */
export interface ProcessConnectionOptions {
  /** Longest wait in milliseconds; `undefined` waits as long as it takes. @default {undefined} */
  timeout?: number;
  /** Abort the wait; the promise rejects with `signal.reason`. @default {undefined} */
  signal?: AbortSignal;
}

/** Options of {@linkcode processPipe}. */
export interface ProcessPipeOptions {
  /** Both ends send and receive; when false the first end only receives, the second only sends. @default {true} */
  duplex?: boolean;
  /**
   * Bytes a handle may have in the pipe, sent but not yet read; `send()` waits while they
   * are there (`sendSync()`, which cannot wait, does not). A longer message still goes,
   * once the pipe holds nothing from that handle.
   * @default {65536}
   */
  bytes?: number;
}

interface State {
  path: string;
  pipe: number;
  end: number;
  bytes: number;
  readable: boolean;
  writable: boolean;
  ticket: string | null;
}

const KIND = "ipc.ProcessConnection";

// A connection dropped without close() gives its handle back when collected.
const finalizer = new FinalizationRegistry<{ link: Link; handle: Handle }>(({ link, handle }) => link.close(handle));

let adopted: State | undefined;

/**
 * One end of a pipe between OS processes, from `getContext("process").Pipe()`: the
 * process-context twin of {@linkcode Connection}, with the same methods, EOF and closed
 * semantics and errors. Pass it in a process-context `Process`'s `args` (or a pool's
 * `initargs`) and the child holds a handle of the same end; close your own copy then, and
 * the reader sees `EOFError` once every handle of the other end is closed or its process
 * has ended, and nothing is left to read.
 *
 * The process that made the pipe serves it on a Unix socket in a private temporary
 * directory and holds the items sent until a reader takes them; `send()` waits only while
 * the pipe holds the pipe's `bytes` unread from its handle. That process must outlive the
 * pipe's use: when it ends, the pipe ends for everyone.
 *
 * A receive waits on a socket, which no thread can block on: `recvSync()`, `pollSync()`
 * and the other blocking `Sync` twins throw a `TypeError` that names the async form.
 * `sendSync()` and `sendBytesSync()` never wait, so they work everywhere.
 *
 * @typeParam T the messages' type
 * @example Usage
 * ```ts
 * import { getContext } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const [a, b] = getContext("process").Pipe<string>();
 * await a.send("ping");
 * assert.equal(await b.recv(), "ping");
 * b.close();
 * await assert.rejects(a.recv(), { name: "EOFError" });
 * a.close();
 * ```
 */
export class ProcessConnection<T = unknown> implements Disposable {
  readonly #state: Omit<State, "ticket">;
  readonly #link: Link;
  readonly #handle: Handle;
  #closed = false;

  /** Connections come from `getContext("process").Pipe()`; this constructor is not for direct use. */
  constructor() {
    const state = adopted;
    adopted = undefined;
    if (state === undefined) {
      throw new TypeError("Cannot create a ProcessConnection directly: call getContext(\"process\").Pipe()");
    }
    const { ticket, ...rest } = state;
    this.#state = rest;
    this.#link = linkTo(state.path);
    this.#handle = this.#link.open(state.pipe, state.end, ticket, state.bytes);
    finalizer.register(this, { link: this.#link, handle: this.#handle }, this);
    if (state.readable) pollers.set(this, (timeout, signal) => this.poll(timeout, { signal }));
  }

  /** Whether {@linkcode ProcessConnection.close} was called on this handle. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether this end can receive. */
  get readable(): boolean {
    return this.#state.readable;
  }

  /** Whether this end can send. */
  get writable(): boolean {
    return this.#state.writable;
  }

  /**
   * Send `obj` to the other end. It waits in the pipe's process until read; this waits
   * only while the pipe holds the pipe's `bytes` or more from this handle.
   *
   * @param obj anything structured clone copies; numbers, strings and typed arrays travel fastest
   * @param options `timeout` (ms) and `signal` for a wait on a full pipe
   * @throws {EOFError} when every handle of the other end is closed
   * @throws {TimeoutError} when the pipe stayed full for `timeout` ms
   * @throws {TypeError} when `obj` cannot be copied to another process
   * @throws {InvalidStateError} when this handle is closed or read-only
   */
  async send(obj: T, options?: ProcessConnectionOptions): Promise<void> {
    this.#writer("send");
    const m = itemMsg(obj);
    await this.#room("send on connection", options);
    this.#writer("send");
    this.#link.send(this.#handle, m);
  }

  /**
   * Send `obj` at once, whatever the pipe holds: it never waits, so it works in every
   * thread (use {@linkcode ProcessConnection.send} to be held back by a full pipe).
   *
   * @throws {EOFError} when every handle of the other end is closed
   * @throws {TypeError} when `obj` cannot be copied to another process
   * @throws {InvalidStateError} when this handle is closed or read-only
   */
  sendSync(obj: T): void {
    this.#writer("send");
    this.#link.send(this.#handle, itemMsg(obj));
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
  async recv(options?: ProcessConnectionOptions): Promise<T> {
    this.#reader("receive");
    checkTimeout(options?.timeout, "receive on connection");
    const f = await this.#link.request(this.#handle, TAKE, options?.timeout, undefined, options?.signal);
    return fromItem(this.#item(f, "receive on connection", options)) as T;
  }

  /**
   * Not available: a thread cannot block on a socket.
   *
   * @throws {TypeError} always, naming {@linkcode ProcessConnection.recv}
   */
  recvSync(_options?: ProcessConnectionOptions): T {
    return refuseSync("recvSync", "recv");
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
  async sendBytes(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number): Promise<void> {
    this.#writer("send bytes");
    // Copied now: the caller may change its buffer while this waits for room.
    const m = bytesToMsg(byteRange(buf, offset, size).slice());
    await this.#room("send bytes", undefined);
    this.#writer("send bytes");
    this.#link.send(this.#handle, m);
  }

  /**
   * Send bytes from `buf` at once; it never waits, so it works in every thread.
   *
   * @throws {RangeError} when `offset` or `size` fall outside `buf`
   * @throws {EOFError} when every handle of the other end is closed
   */
  sendBytesSync(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number): void {
    this.#writer("send bytes");
    this.#link.send(this.#handle, bytesToMsg(byteRange(buf, offset, size)));
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
  async recvBytes(maxlength?: number, options?: ProcessConnectionOptions): Promise<Uint8Array> {
    this.#reader("receive bytes");
    if (maxlength !== undefined && (!Number.isInteger(maxlength) || maxlength < 0)) {
      throw new RangeError(`Cannot receive bytes: maxlength must be a non-negative integer, got ${maxlength}`);
    }
    checkTimeout(options?.timeout, "receive bytes");
    const f = await this.#link.request(this.#handle, TAKE_BYTES, options?.timeout, maxlength, options?.signal);
    if (f.op === REFUSED) {
      throw f.a === 1
        ? new TypeError("Cannot receive bytes: the next message is not bytes; it stays in the pipe, use recv()")
        : new RangeError(
          `Cannot receive bytes: the next message is ${f.x} bytes, longer than maxlength ${maxlength}; it stays in the pipe`,
        );
    }
    const v = fromItem(this.#item(f, "receive bytes", options)) as ArrayBufferView;
    return v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }

  /**
   * Not available: a thread cannot block on a socket.
   *
   * @throws {TypeError} always, naming {@linkcode ProcessConnection.recvBytes}
   */
  recvBytesSync(_maxlength?: number, _options?: ProcessConnectionOptions): Uint8Array {
    return refuseSync("recvBytesSync", "recvBytes");
  }

  /**
   * Receive the next bytes message into `buf` from byte `offset`, like Python's
   * `recv_bytes_into`.
   *
   * @returns the message's length in bytes
   * @throws {BufferTooShortError} when the message does not fit; its `data` holds the whole message
   * @throws {EOFError} when nothing is left and every handle of the other end is closed
   */
  async recvBytesInto(
    buf: ArrayBufferView | ArrayBuffer,
    offset = 0,
    options?: ProcessConnectionOptions,
  ): Promise<number> {
    const target = byteRange(buf, offset, undefined);
    const message = await this.recvBytes(undefined, options);
    if (message.length > target.length) {
      throw new BufferTooShortError(
        `Cannot receive bytes into the buffer: the message is ${message.length} bytes, the buffer has room for ${target.length}; the message is in the error's data`,
        message,
      );
    }
    target.set(message);
    return message.length;
  }

  /**
   * Not available: a thread cannot block on a socket.
   *
   * @throws {TypeError} always, naming {@linkcode ProcessConnection.recvBytesInto}
   */
  recvBytesIntoSync(_buf: ArrayBufferView | ArrayBuffer, _offset = 0, _options?: ProcessConnectionOptions): number {
    return refuseSync("recvBytesIntoSync", "recvBytesInto");
  }

  /**
   * Whether a message, or the end of the pipe, waits to be read, after waiting up to
   * `timeout` ms (0: look now; `Infinity`: as long as it takes).
   *
   * @throws {RangeError} when the timeout is negative or NaN
   */
  async poll(timeout: number | undefined = 0, options?: { signal?: AbortSignal }): Promise<boolean> {
    this.#reader("poll");
    checkTimeout(timeout, "poll connection");
    const f = await this.#link.request(this.#handle, PEEK, timeout ?? Infinity, undefined, options?.signal);
    return f.op === READY;
  }

  /**
   * Not available: a thread cannot block on a socket.
   *
   * @throws {TypeError} always, naming {@linkcode ProcessConnection.poll}
   */
  pollSync(_timeout?: number): boolean {
    return refuseSync("pollSync", "poll");
  }

  /**
   * Close this handle. The other end sees EOF once every handle of this end is closed.
   * Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    finalizer.unregister(this);
    pollers.delete(this);
    this.#link.close(this.#handle);
  }

  /** Close this handle, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** A short description, like Python's repr. */
  toString(): string {
    const mode = this.readable && this.writable ? "duplex" : this.readable ? "read" : "write";
    return `<ProcessConnection(${mode}${this.#closed ? ", closed" : ""})>`;
  }

  /**
   * Describe this handle for another thread; the copy there is a handle of its own.
   *
   * @throws {InvalidStateError} when this handle is closed
   */
  [toShared](): SharedState {
    if (this.#closed) throw new InvalidStateError("Cannot send a closed connection to another process");
    const state: State = { ...this.#state, ticket: this.#link.dup(this.#handle) };
    return { kind: KIND, module: import.meta.url, state };
  }

  /** Describe this handle for another OS process, which reaches the pipe over its socket. */
  [toProcess](): SharedState {
    return this[toShared]();
  }

  async #room(what: string, options: ProcessConnectionOptions | undefined): Promise<void> {
    checkTimeout(options?.timeout, what);
    if (options?.signal?.aborted) throw options.signal.reason;
    if (!this.#link.hasRoom(this.#handle)) await this.#link.room(this.#handle, options?.timeout, options?.signal);
  }

  #writer(what: string): void {
    if (this.#closed) throw new InvalidStateError(`Cannot ${what} on connection: it is closed`);
    if (!this.#state.writable) throw new InvalidStateError(`Cannot ${what} on connection: it is read-only`);
  }

  #reader(what: string): void {
    if (this.#closed) throw new InvalidStateError(`Cannot ${what} on connection: it is closed`);
    if (!this.#state.readable) throw new InvalidStateError(`Cannot ${what} on connection: it is write-only`);
  }

  #item(f: Frame, what: string, options: ProcessConnectionOptions | undefined) {
    if (f.op === ITEM) return { tag: f.a, sub: f.b, body: f.body };
    if (f.op === EOF) {
      throw new EOFError(`Cannot ${what}: the other end is closed and nothing is left to read`);
    }
    if (f.op === TIMEOUT) throw new TimeoutError(`Cannot ${what}: nothing came within ${options?.timeout} ms`);
    throw new InvalidStateError(`Cannot ${what}: unexpected answer ${f.op} from the pipe's process`);
  }
}

function refuseSync(sync: string, form: string): never {
  throw new TypeError(
    `Cannot call ProcessConnection.${sync}() on a process-context pipe: a thread cannot block on a socket, use await connection.${form}() instead`,
  );
}

function byteRange(buf: ArrayBufferView | ArrayBuffer, offset: number, size: number | undefined): Uint8Array {
  const all = buf instanceof ArrayBuffer
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

function make<T>(state: State): ProcessConnection<T> {
  adopted = state;
  return new ProcessConnection<T>();
}

/**
 * A pair of connected {@linkcode ProcessConnection}s that work between OS processes: what
 * `getContext("process").Pipe()` returns, like Python's `multiprocessing.Pipe()`.
 *
 * @typeParam T the messages' type
 * @param options `duplex` and `bytes`
 * @returns `[a, b]`, or `[reader, writer]` when not duplex
 * @throws {RangeError} when `bytes` is out of range
 * @example Usage
 * ```ts
 * import { processPipe } from "@mproc/multiprocessing/ipc";
 * import assert from "node:assert/strict";
 * const [reader, writer] = processPipe<number[]>({ duplex: false });
 * writer.sendSync([1, 2, 3]);
 * assert.deepEqual(await reader.recv(), [1, 2, 3]);
 * assert.equal(reader.writable, false);
 * reader.close();
 * writer.close();
 * ```
 */
export function processPipe<T = unknown>(
  options: ProcessPipeOptions = {},
): [ProcessConnection<T>, ProcessConnection<T>] {
  const { duplex = true, bytes = 65536 } = options;
  if (typeof bytes !== "number" || !Number.isInteger(bytes) || bytes < 1 || bytes > 2 ** 30) {
    throw new RangeError(`Cannot create pipe: bytes must be an integer from 1 to 2^30, got ${String(bytes)}`);
  }
  const hub = localHub();
  const path = hub.path;
  const pipe = hub.newPipe();
  return [
    make<T>({ path, pipe, end: 0, bytes, readable: true, writable: duplex, ticket: null }),
    make<T>({ path, pipe, end: 1, bytes, readable: duplex, writable: true, ticket: null }),
  ];
}

registerShareable(KIND, (state: State) => make(state));

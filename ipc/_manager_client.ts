// The client side of the manager protocol: one connection per manager per thread, shared
// by every proxy of that manager in the thread (Python keeps one per thread too). Calls
// carry an id, so a thread may have many async calls in flight while a Sync call blocks.
//
// Two transports. Threads of this program use a channel in the manager's
// SharedArrayBuffer: the request is in the server's ring a few hundred nanoseconds after
// the call, both sides spin briefly before sleeping on a futex, and a Sync call blocks on
// its reply ring, which works on every runtime and every thread that may block. Other
// processes and machines use TCP; there a thread cannot block on a socket, so the Sync
// twins of a remote proxy throw and name the async form.
import { recordToError } from "../_internal/error_record.ts";
import { requireBlocking, SLICE_MS, waitSlice, waitSliceAsync } from "../_internal/futex.ts";
import { identity } from "../_internal/identity.ts";
import { isAlive } from "../_internal/shared_area.ts";
import { runtime } from "../_runtime/mod.ts";
import type { StreamSocket } from "../_runtime/net.ts";
import { InvalidStateError } from "../errors.ts";
import {
  asWaiter,
  asWaiterAsync,
  type Channel,
  channelAt,
  claimChannel,
  CLOSED,
  controlOf,
  nudge,
  REQ_HEAD,
  RES_TAIL,
  RES_WAITERS,
  SERVER_IDENT,
  SPACE_WAITERS,
  STALLED,
  STATE,
} from "./_manager_channel.ts";
import { ERROR, MessageDecoder, MessageEncoder, NO_REPLY, type ProxyToken } from "./_manager_codec.ts";
import { FrameAssembler } from "./_manager_frames.ts";
import { SpinBudget } from "./_manager_spin.ts";
import { connectTcp, type SocketFrames, type TcpAddress } from "./_manager_tcp.ts";

/** How a proxy finds its manager from any thread. */
export interface ManagerAddress {
  /** Unique id of the manager. */
  uid: string;
  /** The manager's shared buffer, for threads of the same program. */
  area?: SharedArrayBuffer;
  /** The manager's TCP address and key, for everyone else. */
  remote?: TcpAddress;
}

/** Builds a proxy for a token received from `address`; set by the proxy module. */
export type ProxyFactory = (address: ManagerAddress, token: ProxyToken) => unknown;
/** Finds the token of a proxy; set by the proxy module. */
export type TokenOf = (value: object) => ProxyToken | undefined;

let factory: ProxyFactory = () => {
  throw new Error("Cannot rebuild a manager proxy: the proxy module is not loaded");
};
let tokenOf: TokenOf = () => undefined;

/** Let the proxy module say how proxies are made and recognised. */
export function setProxyHooks(make: ProxyFactory, find: TokenOf): void {
  factory = make;
  tokenOf = find;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  signal?: AbortSignal;
  /** Set once the call has its answer. */
  done?: boolean;
  /** Whether this is the thread's Sync call. */
  readonly sync: boolean;
}

/**
 * The one Sync call a thread can have in flight (it is blocked until the answer comes),
 * reused so that a blocking call allocates nothing of its own.
 */
class SyncCall implements Pending {
  readonly sync = true;
  done = false;
  ok = false;
  value: unknown = undefined;

  start(): this {
    this.done = this.ok = false;
    this.value = undefined;
    return this;
  }

  resolve(value: unknown): void {
    this.done = this.ok = true;
    this.value = value;
  }

  reject(error: unknown): void {
    this.done = true;
    this.ok = false;
    this.value = error;
  }
}

/** Longest spin (ms) for a reply before sleeping: a futex wake costs ~45 µs here. */
const SPIN_MS = 0.05;
/** Longest spin (ms) for the reply of a server this call woke. */
const WAKE_SPIN_MS = 0.15;

/** One thread's connection to one manager. */
export abstract class Connection {
  readonly address: ManagerAddress;
  protected readonly pending: Map<number, Pending> = new Map();
  #nextId = 1;
  protected readonly encoder: MessageEncoder;
  readonly #decoder: MessageDecoder;
  /** Set once the connection can no longer be used, with the reason. */
  protected broken: Error | null = null;
  readonly #syncCall = new SyncCall();
  // Checked once: whether the thread may block never changes.
  readonly #canBlock = this.blocks();

  constructor(address: ManagerAddress) {
    this.address = address;
    const hooks = {
      toToken: (o: object) => tokenOf(o),
      fromToken: (t: ProxyToken) => factory(this.address, t),
    };
    this.encoder = new MessageEncoder(hooks);
    this.#decoder = new MessageDecoder(hooks);
  }

  /** Throw when the manager cannot be reached any more. */
  protected abstract check(method: string): void;
  /** Send the framed message `frame[0, length)`; the buffer is reused after the call. */
  protected abstract write(frame: Uint8Array, length: number): void;
  /** Wait until replies arrive for async calls; called when some are pending. */
  protected abstract startPump(): void;
  /** Throw unless this thread and transport can block for an answer; `what` names the call. */
  protected abstract checkSync(what: () => string): void;
  /** Block until the Sync call `p` has its answer. */
  protected abstract waitSync(p: SyncCall): void;
  /** Spin briefly for a fast reply; returns whether `p` got one. */
  protected abstract spin(p: Pending): boolean;

  // Ids are u32 on the wire and 0 means "no reply wanted".
  #newId(): number {
    const id = this.#nextId;
    this.#nextId = id === 0xffffffff ? 1 : id + 1;
    return id;
  }

  /** Whether this connection still reaches its manager. */
  protected abstract get open(): boolean;

  /** Whether Sync calls may block on this thread and transport. */
  protected abstract blocks(): boolean;

  /**
   * Send `method` to the manager (object 0) without waiting for, or getting, an answer:
   * a reference count change. Requests from one thread are served in order, so it takes
   * effect before any later call of this thread. Does nothing once the manager is gone.
   */
  post(method: string, args: unknown[]): void {
    if (this.broken !== null || !this.open) return;
    try {
      const length = this.encoder.requestInto(NO_REPLY, 0, method, args);
      this.write(this.encoder.buffer, length);
    } catch {
      // Only ids and strings are sent: nothing can fail to encode.
    }
  }

  /**
   * Call `method` on object `object` (0: the manager itself).
   *
   * @throws {InvalidStateError} when the manager was shut down or is unreachable
   * @throws {TypeError} when an argument cannot be sent
   */
  call(object: number, method: string, args: unknown[], signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    try {
      this.check(method);
      const id = this.#newId();
      const length = this.encoder.requestInto(id, object, method, args);
      let p!: Pending;
      const promise = new Promise((resolve, reject) => (p = { resolve, reject, signal, sync: false }));
      this.pending.set(id, p);
      this.write(this.encoder.buffer, length);
      if (signal !== undefined) {
        const onAbort = () => {
          if (!this.pending.has(id)) return;
          const frame = this.encoder.cancel(id);
          this.write(frame, frame.length);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        const off = () => signal.removeEventListener("abort", onAbort);
        promise.then(off, off);
      }
      if (!this.spin(p)) this.startPump();
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Call `method` and block this thread until the answer comes.
   *
   * @param typeid the proxy's type, to name the call in an error
   * @throws {TypeError} when this thread may not block, or the transport cannot block
   */
  callSync(object: number, method: string, args: unknown[], typeid: string): unknown {
    if (!this.#canBlock) this.checkSync(() => `${typeid}.${method}Sync()`);
    this.check(method);
    const id = this.#newId();
    const length = this.encoder.requestInto(id, object, method, args);
    const p = this.#syncCall.start();
    this.pending.set(id, p);
    this.write(this.encoder.buffer, length);
    if (!this.spin(p)) this.waitSync(p);
    if (!p.ok) throw p.value;
    return p.value;
  }

  /** Settle the call a reply frame answers. */
  protected deliver(frame: Uint8Array, length: number): void {
    let m;
    try {
      m = this.#decoder.decode(frame, length);
    } catch (error) {
      return this.fail(error as Error);
    }
    if (m.kind !== ERROR && m.kind !== 2) return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    p.done = true;
    if (m.kind !== ERROR) return p.resolve(m.value);
    const record = m.value as { cancelled?: boolean; name: string; message: string; stack?: string };
    p.reject(record.cancelled ? p.signal?.reason : recordToError(record));
  }

  /** Fail every pending call and refuse new ones. */
  protected fail(error: Error): void {
    this.broken ??= error;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      p.done = true;
      p.reject(error);
    }
  }

  /** Whether async calls still wait for answers. */
  protected get waitingAsync(): boolean {
    for (const p of this.pending.values()) if (!p.sync) return true;
    return false;
  }
}

function shutDownError(what: string): InvalidStateError {
  return new InvalidStateError(`Cannot ${what}: the manager was shut down`);
}

/** A connection over the manager's SharedArrayBuffer, for threads of this program. */
class ThreadConnection extends Connection {
  readonly #control: Int32Array;
  readonly #channel: Channel;
  readonly #asm = new FrameAssembler();
  readonly #take: (dst: Uint8Array, at: number, max: number) => number;
  readonly #onFrame = (frame: Uint8Array, length: number) => this.deliver(frame, length);
  #out: Uint8Array[] = [];
  #outPos = 0;
  #pumping = false;
  #wokeServer = false;
  readonly #spin = new SpinBudget(SPIN_MS);

  constructor(address: ManagerAddress) {
    super(address);
    const area = address.area!;
    this.#control = controlOf(area);
    if (Atomics.load(this.#control, STATE) === CLOSED) throw shutDownError("connect to the manager");
    this.#channel = channelAt(area, claimChannel(area, identity().ident));
    this.#take = (dst, at, max) => this.#channel.replies.take(dst, at, max);
  }

  protected get open(): boolean {
    return Atomics.load(this.#control, STATE) !== CLOSED;
  }

  protected check(method: string): void {
    if (Atomics.load(this.#control, STATE) === CLOSED) {
      forget(this);
      throw shutDownError(`call ${method}()`);
    }
    if (this.broken !== null) throw this.broken;
  }

  /** Fail everything when the server is gone; returns whether it is. */
  #gone(): boolean {
    if (Atomics.load(this.#control, STATE) === CLOSED) {
      this.fail(shutDownError("finish the call"));
      return true;
    }
    if (!isAlive(Atomics.load(this.#control, SERVER_IDENT))) {
      this.fail(new InvalidStateError("Cannot finish the call: the manager's server has ended"));
      return true;
    }
    return false;
  }

  protected write(frame: Uint8Array, length: number): void {
    if (this.#out.length === 0) {
      const pos = this.#channel.requests.put(frame, 0, length);
      if (pos < length) {
        this.#out.push(frame.slice(pos, length));
        this.#outPos = 0;
      }
    } else this.#out.push(frame.slice(0, length));
    this.#wokeServer = nudge(this.#control);
  }

  /** Move queued request bytes into the ring; returns whether all went. */
  #flush(): boolean {
    while (this.#out.length > 0) {
      const frame = this.#out[0];
      this.#outPos = this.#channel.requests.put(frame, this.#outPos);
      if (this.#outPos < frame.length) {
        nudge(this.#control);
        return false;
      }
      this.#out.shift();
      this.#outPos = 0;
    }
    nudge(this.#control);
    return true;
  }

  #read(): void {
    this.#asm.feed(this.#take, this.#onFrame);
    // The server parked output because this ring was full: it can go on now.
    if (Atomics.load(this.#channel.words, STALLED) !== 0) nudge(this.#control);
  }

  // A server that was asleep takes a futex wake (tens of µs) to answer: spin long enough
  // to meet it.
  protected spin(p: Pending): boolean {
    if (this.#out.length > 0) return false;
    const woke = this.#wokeServer;
    const budget = woke ? WAKE_SPIN_MS : this.#spin.now();
    const words = this.#channel.words;
    let seen = Atomics.load(words, RES_TAIL);
    // The answer may be in already.
    this.#read();
    if (p.done) return true;
    const spin = this.#spin;
    for (let n = 1;; n++) {
      const tail = Atomics.load(words, RES_TAIL);
      if (tail !== seen) {
        seen = tail;
        this.#read();
        if (p.done) {
          spin.hit();
          return true;
        }
      }
      if ((n & 63) === 0 && spin.spent(budget)) return false;
    }
  }

  protected startPump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    this.#pump().catch((error) => {
      this.#pumping = false;
      this.fail(error);
    });
  }

  // The flag is cleared in the same synchronous step that settles the last call, before
  // the caller's continuation can make another call that needs a pump.
  async #pump(): Promise<void> {
    const words = this.#channel.words;
    for (;;) {
      const seen = Atomics.load(words, RES_TAIL);
      if (this.#out.length > 0 && !this.#flush()) {
        const head = Atomics.load(words, REQ_HEAD);
        await asWaiterAsync(
          words,
          SPACE_WAITERS,
          () => waitSliceAsync(words, REQ_HEAD, head, performance.now() + SLICE_MS),
        );
        continue;
      }
      this.#read();
      if (!this.waitingAsync || this.#gone()) {
        this.#pumping = false;
        return;
      }
      await asWaiterAsync(words, RES_WAITERS, () => waitSliceAsync(words, RES_TAIL, seen, Infinity));
    }
  }

  protected blocks(): boolean {
    return runtime.canBlock;
  }

  protected checkSync(what: () => string): void {
    const call = what();
    requireBlocking(call, `await ${call.replace(/Sync\(/, "(")}`);
  }

  protected waitSync(p: SyncCall): void {
    const words = this.#channel.words;
    while (!p.done) {
      const seen = Atomics.load(words, RES_TAIL);
      if (this.#out.length > 0 && !this.#flush()) {
        const head = Atomics.load(words, REQ_HEAD);
        asWaiter(words, SPACE_WAITERS, () => waitSlice(words, REQ_HEAD, head, performance.now() + SLICE_MS));
        continue;
      }
      this.#read();
      if (p.done || this.#gone()) return;
      asWaiter(words, RES_WAITERS, () => waitSlice(words, RES_TAIL, seen, Infinity));
    }
  }
}

/** A connection over TCP, for a manager in another process or on another machine. */
class TcpConnection extends Connection {
  readonly #ready: Promise<StreamSocket>;
  #socket: StreamSocket | null = null;
  #queued: Uint8Array[] = [];

  constructor(address: ManagerAddress) {
    super(address);
    const remote = address.remote!;
    this.#ready = connectTcp(remote).then(({ socket, frames }) => this.#open(socket, frames));
    this.#ready.catch((error) => this.fail(error));
  }

  #open(socket: StreamSocket, frames: SocketFrames): StreamSocket {
    this.#socket = socket;
    const where = `${this.address.remote!.host}:${this.address.remote!.port}`;
    socket.onClose(() =>
      this.fail(new InvalidStateError(`Cannot finish the call: the manager at ${where} closed the connection`))
    );
    frames.handTo((frame, length) => {
      this.deliver(frame, length);
      this.#refIfWaiting();
    });
    for (const f of this.#queued.splice(0)) socket.write(f);
    this.#refIfWaiting();
    return socket;
  }

  /** Keep the program alive only while calls wait for answers, as a blocking call would. */
  #refIfWaiting(): void {
    this.#socket?.ref(this.pending.size > 0);
  }

  /** Resolves once connected and authenticated; rejects with the reason otherwise. */
  get ready(): Promise<unknown> {
    return this.#ready;
  }

  /** A remote manager is reached by address: a failed connection is forgotten so a later one may retry. */
  protected override fail(error: Error): void {
    super.fail(error);
    forget(this);
  }

  protected get open(): boolean {
    return true;
  }

  protected check(_method: string): void {
    if (this.broken !== null) throw this.broken;
  }

  protected write(frame: Uint8Array, length: number): void {
    const copy = frame.slice(0, length);
    if (this.#socket === null) this.#queued.push(copy);
    else {
      this.#socket.write(copy);
      this.#refIfWaiting();
    }
  }

  protected spin(): boolean {
    return false;
  }

  protected startPump(): void {}

  protected waitSync(): void {}

  protected blocks(): boolean {
    return false;
  }

  protected checkSync(what: () => string): void {
    const call = what();
    throw new TypeError(
      `Cannot call ${call} on a proxy of a remote manager: a thread cannot block on a socket, use await ${
        call.replace(/Sync\(/, "(")
      } instead`,
    );
  }

  /** Close the socket; pending calls fail. */
  close(): void {
    this.#socket?.close();
    this.fail(new InvalidStateError("Cannot call the manager: this connection was closed"));
  }
}

const connections = new Map<string, Connection>();

/** Drop `c` from this thread's table, so its buffers can be collected. */
function forget(c: Connection): void {
  const key = keyOf(c.address);
  if (connections.get(key) === c) connections.delete(key);
}

const remotes = new Map<string, TcpAddress>();

/**
 * Remember (or, with `null`, forget) the TCP address of the manager `uid` this thread
 * started, so that its proxies can be sent to other OS processes.
 */
export function setRemoteOf(uid: string, remote: TcpAddress | null): void {
  if (remote === null) remotes.delete(uid);
  else remotes.set(uid, remote);
}

/** The TCP address other processes reach the manager at `address` by, if it has one. */
export function remoteOf(address: ManagerAddress): TcpAddress | undefined {
  return address.remote ?? remotes.get(address.uid);
}

function keyOf(address: ManagerAddress): string {
  return address.remote !== undefined ? `tcp:${address.remote.host}:${address.remote.port}` : address.uid;
}

/**
 * This thread's connection to the manager at `address`, made on first use.
 *
 * @throws {InvalidStateError} when a local manager was already shut down
 */
export function connectionFor(address: ManagerAddress): Connection {
  const key = keyOf(address);
  let c = connections.get(key);
  if (c === undefined) {
    c = address.area !== undefined ? new ThreadConnection(address) : new TcpConnection(address);
    connections.set(key, c);
  }
  return c;
}

/** This thread's connection to the manager at `address`, if it has one. */
export function existingConnection(address: ManagerAddress): Connection | undefined {
  return connections.get(keyOf(address));
}

/** Open (and authenticate) this thread's connection to a remote manager. */
export async function openRemote(address: ManagerAddress): Promise<Connection> {
  const c = connectionFor(address);
  if (c instanceof TcpConnection) await c.ready;
  return c;
}

/** Forget and close this thread's connection to the manager at `address`. */
export function closeConnection(address: ManagerAddress): void {
  const key = keyOf(address);
  const c = connections.get(key);
  connections.delete(key);
  if (c instanceof TcpConnection) c.close();
}

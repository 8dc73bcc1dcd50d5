// A thread's link to the hub serving a process-context pipe (see _pipe_hub.ts): straight
// calls when the hub is this thread's own, a Unix socket otherwise. One link per hub per
// thread carries every handle this thread holds of that hub's pipes.
import { randomBytes } from "../_runtime/crypto.ts";
import { connectLocal, type StreamSocket } from "../_runtime/net.ts";
import { EOFError, TimeoutError } from "../errors.ts";
import type { Msg } from "./_codec.ts";
import { type Hub, hubAt, type Session } from "./_pipe_hub.ts";
import {
  ACK,
  CANCEL,
  CANCELLED,
  CLOSE,
  DUP,
  EOF,
  type Frame,
  FrameReader,
  FrameWriter,
  GET,
  getBody,
  GONE,
  isBytes,
  ITEM,
  type Item,
  msgItem,
  OPEN,
  PEEK,
  READY,
  REFUSED,
  ROOM,
  SEND,
  TAKE,
  TAKE_BYTES,
  TIMEOUT,
  UNGET,
} from "./_pipe_wire.ts";

/** One handle this thread holds. */
export interface Handle {
  readonly id: number;
  readonly pipe: number;
  readonly end: number;
  /** Items answering requests that were aborted after the hub had sent them: read first. */
  readonly stash: Item[];
  /** Aborted requests whose answer has not come yet; the hub closes the handle after them. */
  unsettled: number;
  closing: boolean;
  /** Bytes sent from this handle that are still in the pipe. */
  unread: number;
  /** A send waits while `unread` is at least this. */
  readonly window: number;
  /** Sends waiting for room: each checks again when called. */
  readonly senders: Set<() => void>;
  /** Whether the hub was asked for this handle's credit and has not answered yet. */
  asked: boolean;
}

interface Pending {
  handle: Handle;
  resolve(f: Frame): void;
  aborted: boolean;
  /** The answer when the hub cannot be reached: EOF for a pipe, GONE for a queue. */
  lost: number;
}

const utf8 = new TextEncoder();
const EMPTY: Uint8Array = new Uint8Array(0);

function answer(op: number, a = 0, x = 0, item?: Item): Frame {
  return { op, a, b: item?.sub ?? 0, x, y: 0, body: item?.body ?? EMPTY };
}

/** Let the sends waiting on `handle` check again. */
function wake(handle: Handle): void {
  for (const check of [...handle.senders]) check();
}

/** A thread's link to one hub. */
abstract class Link {
  #nextHandle = 1;
  #nextReq = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #handles = new Map<number, Handle>();
  #roomWaits = 0;
  /** `pipe:end` of ends whose every handle is closed. */
  readonly #gone = new Set<string>();
  /** Set when the hub cannot be reached: every pipe it served has ended. */
  protected broken = false;

  protected abstract write(f: Frame): void;
  /** Keep the program alive while requests wait. */
  protected abstract waiting(count: number): void;

  /** Whether the hub is this thread's own, which answers at once when it can. */
  abstract readonly local: boolean;

  /** Whether the hub cannot be reached any more. */
  get ended(): boolean {
    return this.broken;
  }

  /** A queue's get answered at once by this thread's own hub (see Hub.takeNow); null otherwise. */
  takeNow(_handle: Handle): (Item & { value?: unknown }) | typeof EOF | null {
    return null;
  }

  /** A queue's put done at once by this thread's own hub (see Hub.putNow); TIMEOUT otherwise. */
  putNow(_handle: Handle, _m: Msg): number {
    return TIMEOUT;
  }

  /** Bytes written and not yet handed to the socket. */
  backlog(): number {
    return 0;
  }

  /** Resolves once what was written has been handed to the socket (or the link broke). */
  drained(): Promise<void> {
    return Promise.resolve();
  }

  /** Register a handle of `end` of `pipe`, taking over the place `ticket` reserved. */
  open(pipe: number, end: number, ticket: string | null, window: number): Handle {
    const handle: Handle = {
      id: this.#nextHandle++,
      pipe,
      end,
      stash: [],
      unsettled: 0,
      closing: false,
      unread: 0,
      window,
      senders: new Set(),
      asked: false,
    };
    this.#handles.set(handle.id, handle);
    this.write({ op: OPEN, x: handle.id, y: pipe, a: end, b: 0, body: ticket === null ? EMPTY : utf8.encode(ticket) });
    return handle;
  }

  /** Reserve a place for a copy of `handle` on its way to another thread or process. */
  dup(handle: Handle): string {
    const ticket = Array.from(randomBytes(12), (b) => b.toString(16).padStart(2, "0")).join("");
    this.write({ op: DUP, x: handle.id, y: 0, a: 0, b: 0, body: utf8.encode(ticket) });
    return ticket;
  }

  /** Close `handle`, once the answers to its aborted requests are in: none may be lost. */
  close(handle: Handle): void {
    handle.closing = true;
    if (handle.unsettled > 0) return;
    // Items the handle took but did not use go back to the front, newest first.
    for (let i = handle.stash.length - 1; i >= 0; i--) {
      const item = handle.stash[i];
      this.write({ op: UNGET, x: handle.id, y: 0, a: item.tag, b: item.sub, body: item.body });
    }
    handle.stash.length = 0;
    this.write({ op: CLOSE, x: handle.id, y: 0, a: 0, b: 0, body: EMPTY });
    this.#handles.delete(handle.id);
    wake(handle);
  }

  /** Whether every handle of the end `handle` sends to is closed. */
  peerGone(handle: Handle): boolean {
    return this.broken || this.#gone.has(`${handle.pipe}:${1 - handle.end}`);
  }

  /**
   * Send `item` from `handle`; it waits in the hub until read.
   *
   * @throws {EOFError} when every handle of the other end is closed
   */
  send(handle: Handle, m: Msg): void {
    if (this.peerGone(handle)) {
      throw new EOFError("Cannot send on connection: every handle of the other end is closed");
    }
    // Counted after the write: this thread's own hub may credit it back during the write.
    const n = this.writeItem(handle.id, m);
    handle.unread += n;
  }

  /** Put the item `m` from a queue's `handle`: no answer, no credit. */
  put(handle: Handle, m: Msg): void {
    this.writeItem(handle.id, m);
  }

  /**
   * A queue's request `op` for `handle`: resolves with the hub's answer. An abort asks the
   * hub to cancel it, and the hub's answer still settles it (CANCELLED, or what it did
   * first), so a put or get is never half done.
   */
  call(handle: Handle, op: number, a: number, b: number, body: Uint8Array, signal?: AbortSignal): Promise<Frame> {
    if (this.broken) return Promise.resolve(answer(GONE));
    const req = this.#nextReq++;
    return new Promise<Frame>((resolve) => {
      const p: Pending = { handle, resolve, aborted: false, lost: GONE };
      if (signal !== undefined) {
        const onAbort = () => this.write({ op: CANCEL, x: handle.id, y: req, a: 0, b: 0, body: EMPTY });
        p.resolve = (f) => {
          signal.removeEventListener("abort", onAbort);
          resolve(f);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      this.#pending.set(req, p);
      this.write({ op, x: handle.id, y: req, a, b, body });
      // Counted once not answered at once: this thread's own hub often answers in the write.
      if (this.#pending.has(req)) this.#waitingChanged();
    });
  }

  /**
   * {@linkcode Link.call} answered at once, for a Sync twin on this thread's own hub; null
   * when the hub would have to wait (the request is cancelled then).
   */
  callNow(handle: Handle, op: number, a: number, b: number, body: Uint8Array): Frame | null {
    const req = this.#nextReq++;
    let got: Frame | null = null;
    this.#pending.set(req, { handle, resolve: (f) => got = f, aborted: false, lost: GONE });
    this.write({ op, x: handle.id, y: req, a, b, body });
    if (got === null) this.write({ op: CANCEL, x: handle.id, y: req, a: 0, b: 0, body: EMPTY });
    this.#pending.delete(req);
    const f = got as Frame | null;
    return f === null || f.op === CANCELLED ? null : f;
  }

  /** Whether a send from `handle` may go now: the pipe holds less than its window from it. */
  hasRoom(handle: Handle): boolean {
    return handle.unread < handle.window || handle.closing || this.peerGone(handle);
  }

  /**
   * Wait until a send from `handle` may go (or the other end is gone: the send then fails).
   *
   * @throws {TimeoutError} when the pipe stays full for `timeout` ms
   */
  room(handle: Handle, timeout: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.hasRoom(handle)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let settled = false;
      // Idempotent: every way out (room, abort, timeout) calls it once, whichever comes first.
      const done = () => {
        if (settled) return;
        settled = true;
        handle.senders.delete(check);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#roomWaits--;
        this.#waitingChanged();
      };
      const check = () => {
        if (settled || !this.hasRoom(handle)) return;
        done();
        resolve();
      };
      const onAbort = () => {
        if (settled) return;
        done();
        reject(signal!.reason);
      };
      handle.senders.add(check);
      this.#roomWaits++;
      this.#waitingChanged();
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeout !== undefined && timeout !== Infinity) {
        timer = setTimeout(() => {
          if (settled) return;
          done();
          reject(new TimeoutError(`Cannot send on connection: the pipe stayed full for ${timeout} ms`));
        }, timeout);
      }
      // Last: this thread's own hub may answer at once, settling this wait.
      this.#ask(handle);
    });
  }

  /**
   * Ask the hub for `handle`'s credit, once until it answers: as soon as the reads free
   * enough for one more send (waiting for more could stall a reader that waits for it).
   */
  #ask(handle: Handle): void {
    if (handle.asked) return;
    handle.asked = true;
    const needed = Math.max(1, handle.unread - handle.window + 1);
    this.write({ op: ROOM, x: handle.id, y: needed, a: 0, b: 0, body: EMPTY });
  }

  #waitingChanged(): void {
    this.waiting(this.#pending.size + this.#roomWaits);
  }

  /** Send the item `m` from handle `id`; returns the bytes the hub will count for it. */
  protected writeItem(id: number, m: Msg): number {
    const item = msgItem(m);
    this.write({ op: SEND, x: id, y: 0, a: item.tag, b: item.sub, body: item.body });
    return item.body.length;
  }

  /** Ask the hub for the next item (or, with PEEK, whether one is there); resolves with its answer. */
  request(
    handle: Handle,
    mode: number,
    timeout: number | undefined,
    maxlength: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Frame> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const local = this.#fromStash(handle, mode, maxlength);
    if (local !== null) return Promise.resolve(local);
    if (this.broken) return Promise.resolve(answer(mode === PEEK ? READY : EOF));
    const req = this.#nextReq++;
    return new Promise<Frame>((resolve, reject) => {
      const p: Pending = { handle, resolve, aborted: false, lost: EOF };
      const onAbort = () => {
        p.aborted = true;
        handle.unsettled++;
        this.write({ op: CANCEL, x: handle.id, y: req, a: 0, b: 0, body: EMPTY });
        reject(signal!.reason);
      };
      p.resolve = (f) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(f);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(req, p);
      this.#waitingChanged();
      this.write({ op: GET, x: handle.id, y: req, a: mode, b: 0, body: getBody(timeout, maxlength) });
    });
  }

  #fromStash(handle: Handle, mode: number, maxlength: number | undefined): Frame | null {
    const head = handle.stash[0];
    if (head === undefined) return null;
    if (mode === PEEK) return answer(READY);
    if (mode === TAKE_BYTES) {
      if (!isBytes(head.tag)) return answer(REFUSED, 1);
      if (maxlength !== undefined && head.body.length > maxlength) return answer(REFUSED, 2, head.body.length);
    }
    handle.stash.shift();
    return { ...answer(ITEM, head.tag, 0, head), a: head.tag };
  }

  /** Act on one answer from the hub. */
  protected deliver(f: Frame): void {
    if (f.op === ACK) {
      const handle = this.#handles.get(f.x);
      if (handle === undefined) return;
      handle.unread -= f.y;
      handle.asked = false;
      wake(handle);
      // Still full: ask again for what the next reads free.
      if (handle.senders.size > 0) this.#ask(handle);
      return;
    }
    if (f.op === GONE) {
      this.#gone.add(`${f.y}:${f.a}`);
      // Sends waiting for room to that end fail now.
      for (const handle of this.#handles.values()) if (handle.pipe === f.y) wake(handle);
      return;
    }
    const p = this.#pending.get(f.y);
    if (p === undefined) return;
    this.#pending.delete(f.y);
    this.#waitingChanged();
    if (!p.aborted) return p.resolve(f);
    // The answer to an aborted request: keep what it took for the handle's next read.
    const handle = p.handle;
    if (f.op === ITEM) handle.stash.push({ tag: f.a, sub: f.b, body: f.body });
    if (--handle.unsettled === 0 && handle.closing) this.close(handle);
  }

  /** The hub is gone: every pipe it served has ended. */
  protected fail(): void {
    this.broken = true;
    const all = [...this.#pending.values()];
    this.#pending.clear();
    this.#waitingChanged();
    for (const handle of this.#handles.values()) wake(handle);
    for (const p of all) {
      if (p.aborted) continue;
      p.resolve(answer(p.lost));
    }
  }
}

/** The link to this thread's own hub: frames are handed over as objects. */
class LocalLink extends Link {
  readonly local = true;
  readonly #hub: Hub;
  readonly #session: Session;
  #waits = 0;

  constructor(hub: Hub) {
    super();
    this.#hub = hub;
    this.#session = { reply: (f) => this.deliver(f) };
  }

  override takeNow(handle: Handle): (Item & { value?: unknown }) | typeof EOF | null {
    return this.#hub.takeNow(this.#session, handle.id);
  }

  override putNow(handle: Handle, m: Msg): number {
    return this.#hub.putNow(this.#session, handle.id, m);
  }

  protected write(f: Frame): void {
    // The hub copies what it keeps, so the caller may reuse its buffer once send() returns.
    this.#hub.handle(this.#session, f);
  }

  protected waiting(count: number): void {
    const on = count > 0 ? 1 : 0;
    if (on !== this.#waits) this.#hub.localWaits(on - this.#waits);
    this.#waits = on;
  }
}

/** The link to a hub in another thread or process, over its Unix socket. */
class SocketLink extends Link {
  readonly local = false;
  #socket: StreamSocket | null = null;
  #drains: (() => void)[] = [];
  readonly #out = new FrameWriter();
  #scheduled = false;
  #waiting = false;
  #unsent = 0;

  constructor(path: string) {
    super();
    connectLocal(path).then((socket) => {
      this.#socket = socket;
      const reader = new FrameReader();
      socket.onData((chunk) => reader.push(chunk, (f) => this.deliver(f)));
      socket.onClose(() => {
        links.delete(path);
        this.fail();
        this.#wakeDrains();
      });
      this.#ref();
      this.#flush();
    }, () => {
      links.delete(path);
      this.fail();
      this.#wakeDrains();
    });
  }

  protected write(f: Frame): void {
    if (this.broken) return;
    this.#out.add(f.op, f.x, f.y, f.a, f.b, f.body);
    this.#schedule();
  }

  protected override writeItem(id: number, m: Msg): number {
    if (this.broken) return 0;
    const n = this.#out.addMsg(SEND, id, 0, m);
    this.#schedule();
    return n;
  }

  override backlog(): number {
    return this.#out.length;
  }

  override drained(): Promise<void> {
    if (this.broken) return Promise.resolve();
    return new Promise((resolve) => this.#drains.push(resolve));
  }

  #wakeDrains(): void {
    const all = this.#drains;
    this.#drains = [];
    for (const wake of all) wake();
  }

  #schedule(): void {
    // Frames written in one turn go out as one write, and while a write is on its way the
    // next ones gather behind it: a sender in a loop fills few large writes, not many small.
    if (!this.#scheduled && this.#unsent === 0) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#socket === null || this.#out.length === 0) return;
    const all = this.#out.take();
    // Like Python's queue feeder at exit, what was sent leaves before the process ends: an
    // unref'd socket's unwritten bytes are dropped at exit on Deno and Bun.
    this.#unsent++;
    this.#ref();
    this.#socket.write(all, () => {
      this.#unsent--;
      if (this.#out.length > 0) this.#flush();
      else this.#ref();
      this.#wakeDrains();
    });
  }

  #ref(): void {
    this.#socket?.ref(this.#waiting || this.#unsent > 0);
  }

  protected waiting(count: number): void {
    this.#waiting = count > 0;
    this.#ref();
  }
}

const links = new Map<string, Link>();

/** This thread's link to the hub at `path`. */
export function linkTo(path: string): Link {
  let link = links.get(path);
  if (link === undefined) {
    const hub = hubAt(path);
    link = hub !== null ? new LocalLink(hub) : new SocketLink(path);
    links.set(path, link);
  }
  return link;
}

export { TAKE, TAKE_BYTES };
export type { Link };

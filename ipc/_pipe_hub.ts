// The hub of process-context pipes: a thread that creates such a pipe serves it on a Unix
// socket, and holds its items until a reader asks for one. Every handle of an end, in any
// process, is registered here, so the hub knows when an end has no handle left: a socket
// that closes (its process ended, however it ended) takes its handles with it, which
// gives EOF the same meaning as with the thread pipe. A handle sent in `args` reserves
// its place with a ticket before it leaves, so the sender may close its own copy at once
// (Python's `child_conn.close()` after `start()`) without the reader seeing EOF early.
//
// Items wait in the hub, not in a reader, because any handle of an end may read: a reader
// asks for one item at a time and nothing is ever pushed to a handle that did not ask.
//
// A process-context queue (process_queue.ts) is a pipe of one end: every handle puts to
// and takes from end 0, whose items are the queue's, and the other end never closes (so
// a get waits rather than seeing EOF) until the queue is closed. The queue ends when its
// last handle, in any process, is closed.
import { listenLocal, type LocalServer, type StreamSocket } from "../_runtime/net.ts";
import { CONST, type Msg, NUM, STR16, STR8 } from "./_codec.ts";
import {
  ACK,
  CANCEL,
  CANCELLED,
  CLOSE,
  CLOSED,
  DUP,
  EOF,
  type Frame,
  FrameReader,
  FrameWriter,
  fromItem,
  GET,
  GONE,
  isBytes,
  ITEM,
  type Item,
  itemMsg,
  msgItem,
  OK,
  OPEN,
  PEEK,
  QCLOSE,
  QDONE,
  QJOIN,
  QPUT,
  QSTAT,
  readGetBody,
  READY,
  REFUSED,
  ROOM,
  SEND,
  TAKE_BYTES,
  TIMEOUT,
  UNGET,
} from "./_pipe_wire.ts";

/** Where answers to one client go: a socket, or the hub's own thread. */
export interface Session {
  reply(f: Frame): void;
}

interface Waiter {
  session: Session;
  handle: number;
  req: number;
  mode: number;
  maxlength: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** An item in the hub, with the handle to credit once it leaves. */
interface Kept extends Item {
  from: Session | null;
  handle: number;
  /** A queue's number, string or constant, kept as the value itself (tag VALUE). */
  value?: unknown;
}

/**
 * The tag of a queue item kept as its value: decoded once as it arrives, and handed to the
 * maker's gets as it is (a typed array and its DataView per small item cost more than the
 * rest of a put and a get together).
 */
export const VALUE = 0;

interface End {
  /** Open handles and tickets in flight. */
  count: number;
  /** Whether every handle was closed once: a later handle of the other end sees it at once. */
  ended: boolean;
  /** Items sent to this end, oldest first. */
  items: Fifo<Kept>;
  /** Requests of this end's readers, oldest first. */
  waiters: Waiter[];
}

/** A queue's put waiting for room, or its join() waiting for every item to be done. */
interface Parked {
  session: Session;
  handle: number;
  req: number;
  item: Kept | null;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** What makes a pipe a queue. */
interface QueueState {
  /** 0: unbounded. */
  maxsize: number;
  closed: boolean;
  /** Items put and not yet marked done (JoinableQueue). */
  unfinished: number;
  putters: Parked[];
  joiners: Parked[];
}

interface PipeState {
  id: number;
  ends: [End, End];
  queue?: QueueState;
}

interface Held {
  pipe: PipeState;
  end: number;
  /** Bytes of this handle's sends read since its last credit. */
  owed?: number;
  /** Credit the handle waits for, in bytes; 0 when it does not wait. */
  wants?: number;
}

const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Items oldest first. Not a plain array: its shift() moves every item once the array is
 * large (V8 trims only small ones), which made a get from a long queue cost 100 µs.
 */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  first(): T | undefined {
    return this.#items[this.#head];
  }

  push(item: T): void {
    this.#items.push(item);
  }

  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

function reply(session: Session, op: number, x: number, y: number, a = 0, b = 0, body: Uint8Array = EMPTY): void {
  session.reply({ op, x, y, a, b, body });
}

/** One thread's hub: its pipes, and the handles every session holds. */
export class Hub {
  readonly #pipes = new Map<number, PipeState>();
  readonly #handles = new Map<Session, Map<number, Held>>();
  readonly #tickets = new Map<string, Held & { owner: Session }>();
  #nextPipe = 1;
  #server: LocalServer | null = null;
  #localWaits = 0;

  /** The socket path clients connect to; the server starts on first use. */
  get path(): string {
    this.#server ??= this.#listen();
    return this.#server.path;
  }

  /** A new pipe with no handles yet. */
  newPipe(): number {
    const id = this.#nextPipe++;
    const end = (): End => ({ count: 0, ended: false, items: new Fifo(), waiters: [] });
    this.#pipes.set(id, { id, ends: [end(), end()] });
    return id;
  }

  /** A new queue with no handles yet: its items are end 0's, and end 1 never closes. */
  newQueue(maxsize: number): number {
    const id = this.newPipe();
    const pipe = this.#pipes.get(id)!;
    pipe.ends[1].count = Infinity;
    pipe.queue = { maxsize, closed: false, unfinished: 0, putters: [], joiners: [] };
    return id;
  }

  /**
   * Keep the program alive while this thread waits on one of its own pipes: the answer
   * comes from another process, through the server's sockets.
   */
  localWaits(delta: number): void {
    this.#localWaits += delta;
    this.#server?.ref(this.#localWaits > 0);
  }

  #listen(): LocalServer {
    const server = listenLocal((socket) => this.#accept(socket));
    server.ref(this.#localWaits > 0);
    return server;
  }

  #accept(socket: StreamSocket): void {
    const out = new FrameWriter();
    const session: Session = {
      reply: (f) => {
        // Answers written in one turn go out as one write.
        if (out.length === 0) queueMicrotask(flush);
        out.add(f.op, f.x, f.y, f.a, f.b, f.body);
      },
    };
    const flush = () => {
      if (out.length > 0) socket.write(out.take());
    };
    const reader = new FrameReader();
    socket.onData((chunk) => {
      try {
        reader.push(chunk, (f) => this.handle(session, f));
      } catch {
        // Garbage from a peer that is not one of ours: drop only that connection.
        socket.close();
      }
    });
    socket.onClose(() => this.drop(session));
  }

  /** Act on one frame from a client. */
  handle(session: Session, f: Frame): void {
    switch (f.op) {
      case OPEN:
        return this.#open(session, f.x, f.y, f.a, f.body.length > 0 ? ticketOf(f.body) : null);
      case CLOSE:
        return this.#close(session, f.x);
      case DUP:
        return this.#dup(session, f.x, ticketOf(f.body));
      case SEND:
        return this.#send(session, f.x, f.a, f.b, f.body, false);
      case UNGET:
        return this.#send(session, f.x, f.a, f.b, f.body, true);
      case GET:
        return this.#get(session, f);
      case CANCEL:
        return this.#cancel(session, f.x, f.y);
      case ROOM:
        return this.#room(session, f.x, f.y);
      case QPUT:
        return this.#qput(session, f);
      case QSTAT:
      case QCLOSE:
      case QDONE:
      case QJOIN:
        return this.#queueCall(session, f);
    }
  }

  /** A session ended: its handles and unclaimed tickets are closed. */
  drop(session: Session): void {
    const held = this.#handles.get(session);
    this.#handles.delete(session);
    for (const [ticket, t] of this.#tickets) {
      if (t.owner === session) {
        this.#tickets.delete(ticket);
        this.#release(t.pipe, t.end);
      }
    }
    for (const { pipe } of held?.values() ?? []) {
      if (pipe.queue !== undefined) {
        pipe.queue.putters = dropParked(pipe.queue.putters, (p) => p.session === session);
        pipe.queue.joiners = dropParked(pipe.queue.joiners, (p) => p.session === session);
      }
      for (const end of pipe.ends) {
        end.waiters = end.waiters.filter((w) => {
          if (w.session !== session) return true;
          clearTimeout(w.timer);
          return false;
        });
      }
    }
    for (const { pipe, end } of held?.values() ?? []) this.#release(pipe, end);
  }

  #held(session: Session, handle: number): Held | undefined {
    return this.#handles.get(session)?.get(handle);
  }

  #open(session: Session, handle: number, pipeId: number, end: number, ticket: string | null): void {
    const pipe = this.#pipes.get(pipeId);
    if (pipe === undefined || (end !== 0 && end !== 1)) {
      // The pipe ended before this copy arrived: it sees the end at once.
      return reply(session, GONE, 0, pipeId, 1 - end);
    }
    const t = ticket === null ? undefined : this.#tickets.get(ticket);
    if (t !== undefined && t.pipe === pipe && t.end === end) this.#tickets.delete(ticket!);
    else pipe.ends[end].count++;
    let map = this.#handles.get(session);
    if (map === undefined) this.#handles.set(session, map = new Map());
    map.set(handle, { pipe, end });
    if (pipe.ends[1 - end].ended) reply(session, GONE, 0, pipe.id, 1 - end);
  }

  #close(session: Session, handle: number): void {
    const held = this.#held(session, handle);
    if (held === undefined) return;
    this.#handles.get(session)!.delete(handle);
    const mine = held.pipe.ends[held.end];
    mine.waiters = mine.waiters.filter((w) => {
      if (w.session !== session || w.handle !== handle) return true;
      clearTimeout(w.timer);
      return false;
    });
    this.#release(held.pipe, held.end);
  }

  #dup(session: Session, handle: number, ticket: string): void {
    const held = this.#held(session, handle);
    if (held === undefined) return;
    held.pipe.ends[held.end].count++;
    this.#tickets.set(ticket, { ...held, owner: session });
  }

  /** One handle or ticket of `end` is gone. */
  #release(pipe: PipeState, end: number): void {
    const mine = pipe.ends[end];
    if (--mine.count > 0) return;
    mine.ended = true;
    if (pipe.queue !== undefined) {
      // No handle of the queue is left anywhere: nobody can take its items.
      this.#pipes.delete(pipe.id);
      return;
    }
    // No reader of this end will ever come: what was sent to it goes.
    for (let item = mine.items.shift(); item !== undefined; item = mine.items.shift()) this.#creditItem(item);
    const other = pipe.ends[1 - end];
    if (other.count === 0) {
      this.#pipes.delete(pipe.id);
      return;
    }
    for (const [session, map] of this.#handles) {
      for (const held of map.values()) {
        if (held.pipe === pipe && held.end === 1 - end) {
          reply(session, GONE, 0, pipe.id, end);
          break;
        }
      }
    }
    this.#serve(pipe, 1 - end);
  }

  #send(session: Session, handle: number, tag: number, sub: number, body: Uint8Array, first: boolean): void {
    const held = this.#held(session, handle);
    // An unget goes back to the handle's own end; a send to the other (a queue's to its one end).
    const to = held === undefined ? undefined : first || held.pipe.queue ? held.end : 1 - held.end;
    if (held === undefined || held.pipe.ends[to!].count === 0) {
      if (!first) this.#credit(session, handle, body.length);
      return;
    }
    const end = held.pipe.ends[to!];
    // A body views the socket's chunk: a copy, so a waiting item does not keep the chunk
    // (new Uint8Array, since a Node Buffer's slice() is a view). A given-back item was
    // credited when first taken.
    // A queue's sender asks for no credit: it is not counted.
    const from = first || held.pipe.queue ? null : session;
    const kept: Kept = held.pipe.queue !== undefined && !first
      ? keep(tag, sub, body, handle)
      : { tag, sub, body: new Uint8Array(body), from, handle };
    if (held.pipe.queue !== undefined && !first) held.pipe.queue.unfinished++;
    if (first) end.items.unshift(kept);
    else end.items.push(kept);
    this.#serve(held.pipe, to!);
  }

  #get(session: Session, f: Frame): void {
    const held = this.#held(session, f.x);
    // A handle whose pipe had ended before it opened.
    if (held === undefined) return reply(session, f.a === PEEK ? READY : EOF, 0, f.y);
    const { timeout, maxlength } = readGetBody(f.body);
    const w: Waiter = { session, handle: f.x, req: f.y, mode: f.a, maxlength, timer: undefined };
    const end = held.pipe.ends[held.end];
    if (end.waiters.length === 0 && this.#answer(held.pipe, held.end, w)) return;
    if (timeout === 0) return reply(session, TIMEOUT, 0, w.req);
    if (timeout !== Infinity) {
      w.timer = setTimeout(() => {
        end.waiters = end.waiters.filter((x) => x !== w);
        reply(session, TIMEOUT, 0, w.req);
      }, timeout);
    }
    end.waiters.push(w);
  }

  /** The bytes of `item` have left the pipe: credit its sender. */
  #creditItem(item: Kept): void {
    if (item.from !== null) this.#credit(item.from, item.handle, item.body.length);
  }

  #credit(session: Session, handle: number, bytes: number): void {
    const held = this.#held(session, handle);
    if (held === undefined) return;
    held.owed = (held.owed ?? 0) + bytes;
    if (held.wants) this.#room(session, handle, held.wants);
  }

  /**
   * Handle `handle` waits for `needed` bytes of room: its credit goes once that much of
   * what it sent has been read (all of it, at most, so it always comes), not read by read.
   */
  #room(session: Session, handle: number, needed: number): void {
    const held = this.#held(session, handle);
    if (held === undefined) return;
    if ((held.owed ?? 0) < Math.max(needed, 1)) {
      held.wants = Math.max(needed, 1);
      return;
    }
    reply(session, ACK, handle, held.owed!);
    held.owed = 0;
    held.wants = 0;
  }

  #cancel(session: Session, handle: number, req: number): void {
    const held = this.#held(session, handle);
    if (held === undefined) return;
    const end = held.pipe.ends[held.end];
    const i = end.waiters.findIndex((w) => w.session === session && w.req === req);
    if (i < 0) {
      const q = held.pipe.queue;
      if (q === undefined) return;
      const mine = (p: Parked) => p.session === session && p.req === req;
      if (!q.putters.some(mine) && !q.joiners.some(mine)) return;
      q.putters = dropParked(q.putters, mine);
      q.joiners = dropParked(q.joiners, mine);
      return reply(session, CANCELLED, 0, req);
    }
    clearTimeout(end.waiters[i].timer);
    end.waiters.splice(i, 1);
    reply(session, CANCELLED, 0, req);
  }

  /** Answer waiting readers of `to` while items (or the end) are there. */
  #serve(pipe: PipeState, to: number): void {
    const end = pipe.ends[to];
    while (end.waiters.length > 0) {
      if (!this.#answer(pipe, to, end.waiters[0])) return;
      clearTimeout(end.waiters.shift()!.timer);
    }
  }

  /** Answer `w` now if it can be; returns whether it was. */
  #answer(pipe: PipeState, to: number, w: Waiter): boolean {
    const end = pipe.ends[to];
    const head = end.items.first();
    if (head === undefined) {
      if (pipe.queue !== undefined ? !pipe.queue.closed : pipe.ends[1 - to].count > 0) return false;
      reply(w.session, w.mode === PEEK ? READY : EOF, 0, w.req);
      return true;
    }
    if (w.mode === PEEK) {
      reply(w.session, READY, 0, w.req);
      return true;
    }
    if (w.mode === TAKE_BYTES) {
      if (!isBytes(head.tag)) {
        reply(w.session, REFUSED, 0, w.req, 1);
        return true;
      }
      if (head.body.length > w.maxlength) {
        reply(w.session, REFUSED, head.body.length, w.req, 2);
        return true;
      }
    }
    end.items.shift();
    if (head.tag === VALUE) {
      const item = msgItem(itemMsg(head.value));
      reply(w.session, ITEM, 0, w.req, item.tag, item.sub, item.body);
    } else reply(w.session, ITEM, 0, w.req, head.tag, head.sub, head.body);
    this.#creditItem(head);
    if (pipe.queue !== undefined && pipe.queue.putters.length > 0) this.#admit(pipe, pipe.queue);
    return true;
  }

  // --- queues -------------------------------------------------------------------------

  #isFull(pipe: PipeState, q: QueueState): boolean {
    return q.maxsize > 0 && pipe.ends[0].items.length >= q.maxsize;
  }

  #state(session: Session, req: number, pipe: PipeState, q: QueueState): void {
    reply(session, OK, pipe.ends[0].items.length, req, q.closed ? 1 : 0, this.#isFull(pipe, q) ? 1 : 0);
  }

  /** A put that waits for room when the queue is bounded; it always gets an answer. */
  #qput(session: Session, f: Frame): void {
    const held = this.#held(session, f.x);
    const q = held?.pipe.queue;
    if (held === undefined || q === undefined) return reply(session, CLOSED, 0, f.y);
    if (q.closed) return reply(session, CLOSED, 0, f.y);
    const timeout = new DataView(f.body.buffer, f.body.byteOffset, 8).getFloat64(0, true);
    const item = keep(f.a, f.b, f.body.subarray(8), f.x);
    if (q.putters.length === 0 && !this.#isFull(held.pipe, q)) {
      this.#enqueue(held.pipe, q, item);
      return this.#state(session, f.y, held.pipe, q);
    }
    if (timeout === 0) return reply(session, TIMEOUT, 0, f.y);
    const p: Parked = { session, handle: f.x, req: f.y, item, timer: undefined };
    if (timeout > 0) {
      p.timer = setTimeout(() => {
        q.putters = q.putters.filter((x) => x !== p);
        reply(session, TIMEOUT, 0, p.req);
      }, timeout);
    }
    q.putters.push(p);
  }

  /**
   * The maker's own get, answered at once without a frame: the item (or EOF, once the
   * queue is closed and empty), or null when the get must wait like any other.
   */
  takeNow(session: Session, handle: number): Kept | typeof EOF | null {
    const held = this.#held(session, handle);
    const q = held?.pipe.queue;
    if (held === undefined || q === undefined) return null;
    const end = held.pipe.ends[0];
    if (end.waiters.length > 0) return null;
    const head = end.items.shift();
    if (head === undefined) return q.closed ? EOF : null;
    if (q.putters.length > 0) this.#admit(held.pipe, q);
    return head;
  }

  /**
   * The maker's own put, without a frame: OK once in the queue, CLOSED, or TIMEOUT when
   * it must wait for room (then it goes as a request). The hub keeps `item`'s body.
   */
  putNow(session: Session, handle: number, m: Msg): number {
    const held = this.#held(session, handle);
    const q = held?.pipe.queue;
    if (held === undefined || q === undefined || q.closed) return CLOSED;
    if (q.putters.length > 0 || this.#isFull(held.pipe, q)) return TIMEOUT;
    let kept: Kept;
    if (m.tag === NUM) kept = { tag: VALUE, sub: 0, body: EMPTY, from: null, handle, value: m.num };
    else if (m.tag === STR16 && m.sub === 0) {
      kept = { tag: VALUE, sub: 0, body: EMPTY, from: null, handle, value: m.str };
    } else if (m.tag === CONST) kept = { tag: VALUE, sub: 0, body: EMPTY, from: null, handle, value: CONSTS[m.sub] };
    else {
      // A typed array's record views the caller's buffer, which may change after the put.
      const item = msgItem(m);
      kept = { tag: item.tag, sub: item.sub, body: new Uint8Array(item.body), from: null, handle };
    }
    this.#enqueue(held.pipe, q, kept);
    return OK;
  }

  #enqueue(pipe: PipeState, q: QueueState, item: Kept): void {
    pipe.ends[0].items.push(item);
    q.unfinished++;
    this.#serve(pipe, 0);
  }

  /** Let waiting puts in while there is room. */
  #admit(pipe: PipeState, q: QueueState): void {
    while (q.putters.length > 0 && !this.#isFull(pipe, q)) {
      const p = q.putters.shift()!;
      clearTimeout(p.timer);
      pipe.ends[0].items.push(p.item!);
      q.unfinished++;
      this.#state(p.session, p.req, pipe, q);
    }
  }

  #queueCall(session: Session, f: Frame): void {
    const held = this.#held(session, f.x);
    const q = held?.pipe.queue;
    if (held === undefined || q === undefined) return reply(session, CLOSED, 0, f.y);
    const pipe = held.pipe;
    switch (f.op) {
      case QCLOSE:
        if (!q.closed) {
          q.closed = true;
          for (const p of q.putters) {
            clearTimeout(p.timer);
            reply(p.session, CLOSED, 0, p.req);
          }
          q.putters = [];
          // Waiting gets see the end now: the queue is empty, or they would not wait.
          this.#serve(pipe, 0);
        }
        return this.#state(session, f.y, pipe, q);
      case QDONE:
        if (q.unfinished <= 0) return reply(session, REFUSED, 0, f.y);
        if (--q.unfinished === 0) {
          for (const p of q.joiners) this.#state(p.session, p.req, pipe, q);
          q.joiners = [];
        }
        return this.#state(session, f.y, pipe, q);
      case QJOIN:
        if (q.unfinished === 0) return this.#state(session, f.y, pipe, q);
        q.joiners.push({ session, handle: f.x, req: f.y, item: null, timer: undefined });
        return;
      default:
        return this.#state(session, f.y, pipe, q);
    }
  }
}

const text = new TextDecoder();
const CONSTS = [undefined, null, false, true];

/** A queue item that came as bytes: numbers, strings and constants as their value, the rest copied. */
function keep(tag: number, sub: number, body: Uint8Array, handle: number): Kept {
  if (tag === NUM || tag === CONST || tag === STR8) {
    return { tag: VALUE, sub: 0, body: EMPTY, from: null, handle, value: fromItem({ tag, sub, body }) };
  }
  return { tag, sub, body: new Uint8Array(body), from: null, handle };
}

/** `list` without the entries `drop` picks, whose timers are cleared. */
function dropParked(list: Parked[], drop: (p: Parked) => boolean): Parked[] {
  return list.filter((p) => {
    if (!drop(p)) return true;
    clearTimeout(p.timer);
    return false;
  });
}

function ticketOf(body: Uint8Array): string {
  return text.decode(body);
}

let hub: Hub | null = null;

/** This thread's hub, made on first use. */
export function localHub(): Hub {
  return hub ??= new Hub();
}

/** This thread's hub if it serves `path`. */
export function hubAt(path: string): Hub | null {
  return hub !== null && hub.path === path ? hub : null;
}

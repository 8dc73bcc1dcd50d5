import { checkTimeout } from "../_internal/deadline.ts";
import { registerShareable, type SharedState, toProcess, toShared } from "../_internal/shareable.ts";
import { EmptyError, FullError, InvalidStateError } from "../errors.ts";
import type { Msg } from "./_codec.ts";
import { localHub, VALUE } from "./_pipe_hub.ts";
import { type Handle, type Link, linkTo } from "./_pipe_link.ts";
import {
  CANCELLED,
  CLOSED,
  EOF,
  type Frame,
  fromItem,
  GET,
  getBody,
  GONE,
  ITEM,
  itemMsg,
  msgItem,
  OK,
  QCLOSE,
  QDONE,
  QJOIN,
  QPUT,
  QSTAT,
  REFUSED,
  TIMEOUT,
} from "./_pipe_wire.ts";

/** Options of a put or get on a {@linkcode ProcessQueue}. */
export interface ProcessQueueOptions {
  /** When false, fail at once instead of waiting (Python's `block=False`). @default {true} */
  block?: boolean;
  /** Longest wait in milliseconds; `undefined` waits as long as it takes. @default {undefined} */
  timeout?: number;
  /** Abort the wait; the promise rejects with `signal.reason`. @default {undefined} */
  signal?: AbortSignal;
}

interface State {
  path: string;
  queue: number;
  maxsize: number;
  joinable: boolean;
  ticket: string | null;
}

const KIND = "ipc.ProcessQueue";
const EMPTY_BODY: Uint8Array = new Uint8Array(0);
const END: Frame = { op: EOF, a: 0, b: 0, x: 0, y: 0, body: EMPTY_BODY };
const DONE: Promise<void> = Promise.resolve();
/** Bytes of puts a process gathers before a put waits for them to reach its socket. */
const BACKLOG = 65536;
/** GET mode TAKE. */
const TAKE = 0;

// A queue dropped without being passed on gives its handle back when collected.
const finalizer = new FinalizationRegistry<{ link: Link; handle: Handle }>(({ link, handle }) => link.close(handle));

let adopted: State | undefined;

/** What ProcessJoinableQueue needs of its queue's private parts. */
interface Inner {
  /** A request of the queue's handle. */
  call(op: number, signal?: AbortSignal): Promise<Frame>;
  /** A request answered now, in the maker's own thread; `sync` names the twin. */
  now(sync: string, form: string, op: number): Frame;
  /** The hub's answer to a request that does not fail otherwise, checked. */
  answered(f: Frame, what: string): Frame;
}

const inner = new WeakMap<object, Inner>();

/**
 * A queue between OS processes, from `getContext("process").Queue()` (or `SimpleQueue()`,
 * or `JoinableQueue()`, which gives a {@linkcode ProcessJoinableQueue}): any number of
 * producers and consumers in the process that made it, its OS children (pass it in
 * `args` or a pool's `initargs`) and their threads. Items come out in the order each
 * producer put them.
 *
 * The process that made the queue holds its items and serves the others on a Unix socket
 * in a private temporary directory: its own puts and gets are plain calls, another
 * process's put of an unbounded queue is sent without waiting for an answer, and a get
 * from another process asks for one item (a bounded queue's puts ask too, to wait for
 * room). An item leaves the queue only for a get that asked for it: a consumer that ends
 * while not in `get()` takes nothing with it, one that ends after its get was answered
 * takes that item (as in Python). `close()` closes the queue for everyone: puts fail,
 * gets take what is left and then fail (a put another process sent before it learnt of
 * the close still enters). The queue lives as long as its maker's process: when that
 * ends, calls elsewhere fail with an `InvalidStateError` saying so.
 *
 * A thread cannot block on a socket: in other processes the blocking `Sync` twins throw a
 * `TypeError` that names the async form (`putSync` of an unbounded queue, which never
 * waits, works everywhere). In the maker's own thread they work while they need not wait.
 *
 * @typeParam T the items' type
 * @example Usage
 * ```ts
 * import { getContext } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const queue = await getContext("process").Queue<string>({ maxsize: 2 });
 * await queue.put("a");
 * await queue.put("b");
 * assert.equal(await queue.full(), true);
 * assert.equal(await queue.get(), "a");
 * await queue.close();
 * assert.equal(await queue.get(), "b");
 * await assert.rejects(queue.get(), { name: "InvalidStateError" });
 * ```
 */
export class ProcessQueue<T = unknown> {
  readonly #state: Omit<State, "ticket">;
  readonly #link: Link;
  readonly #handle: Handle;
  /** Whether this process learnt that the queue is closed. */
  #closedSeen = false;
  /** Whether a put without answer may go: the queue was open when this handle last asked. */
  #checked = false;
  /** Whether a request follows this handle's latest puts without answer (see #putNow). */
  #confirming = false;

  /** Queues come from `getContext("process").Queue()`; this constructor is not for direct use. */
  constructor() {
    const state = adopted;
    adopted = undefined;
    if (state === undefined) {
      throw new TypeError("Cannot create a ProcessQueue directly: call await getContext(\"process\").Queue()");
    }
    const { ticket, ...rest } = state;
    this.#state = rest;
    this.#link = linkTo(state.path);
    this.#handle = this.#link.open(state.queue, 0, ticket, Infinity);
    finalizer.register(this, { link: this.#link, handle: this.#handle }, this);
    inner.set(this, {
      call: (op, signal) => this.#call(op, 0, 0, EMPTY_BODY, signal),
      now: (sync, form, op) => this.#now(sync, form, op, 0, 0, EMPTY_BODY),
      answered: (f, what) => this.#answered(f, what),
    });
  }

  /** The bound given when the queue was made; 0 for unbounded. */
  get maxsize(): number {
    return this.#state.maxsize;
  }

  /**
   * Put `item`, waiting for room when the queue is bounded and full.
   *
   * @param item anything structured clone copies; numbers, strings and typed arrays travel fastest
   * @param options `block`, `timeout` (ms) and `signal` for a wait on a full queue
   * @throws {FullError} when `block` is false or the timeout passed; `error.value` is the item
   * @throws {InvalidStateError} when the queue is closed, or its process has ended
   * @throws {TypeError} when `item` cannot be copied to another process
   */
  put(item: T, options?: ProcessQueueOptions): Promise<void> {
    // The common puts settle without an async function's promise and machinery: a child's
    // stream of small items spends most of its time here, much of it in cold code.
    if (options === undefined && (this.#link.local || (this.#checked && this.#state.maxsize === 0))) {
      try {
        const m = itemMsg(item);
        if (!this.#link.local) {
          this.#putNow(m);
          return this.#link.backlog() > BACKLOG ? this.#link.drained() : DONE;
        }
        if (this.#link.putNow(this.#handle, m) === OK) return DONE;
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#put(item, options);
  }

  async #put(item: T, options: ProcessQueueOptions | undefined): Promise<void> {
    const timeout = waitOf(options, "put an item in a queue");
    if (options?.signal?.aborted) throw options.signal.reason;
    const m = itemMsg(item);
    if (this.#state.maxsize === 0 && !this.#link.local) {
      // Another process's put of an unbounded queue needs no answer; the first asks
      // whether the queue is open, so a queue closed before this process had it refuses it.
      if (!this.#checked) this.#answered(await this.#call(QSTAT, 0, 0, EMPTY_BODY), "put an item in");
      this.#putNow(m);
      if (this.#link.backlog() > BACKLOG) await this.#link.drained();
      return;
    }
    const now = this.#link.putNow(this.#handle, m);
    if (now === OK) return;
    const f = now === CLOSED || timeout === 0
      ? { op: now, a: 0, b: 0, x: 0, y: 0, body: EMPTY_BODY }
      : await this.#call(QPUT, ...putFrame(m, timeout), options?.signal);
    this.#putResult(f, item, timeout, options?.signal);
  }

  /**
   * Put `item` at once. It works in every thread for an unbounded queue, and in the
   * maker's own thread while the queue has room.
   *
   * @throws {FullError} when the queue is full; `error.value` is the item
   * @throws {TypeError} when the put would have to wait on a socket
   */
  putSync(item: T, options?: ProcessQueueOptions): void {
    const timeout = waitOf(options, "put an item in a queue");
    if (options?.signal?.aborted) throw options.signal.reason;
    const m = itemMsg(item);
    if (this.#state.maxsize === 0 && !this.#link.local) return this.#putNow(m);
    this.#putResult(this.#now("putSync", "put", QPUT, ...putFrame(m, timeout)), item, timeout, undefined);
  }

  /**
   * Put `item` only if there is room now.
   *
   * @throws {FullError} when the queue is full
   */
  putNowait(item: T): Promise<void> {
    return this.put(item, { block: false });
  }

  /**
   * Take the oldest item, waiting for one.
   *
   * @param options `block`, `timeout` (ms) and `signal`
   * @throws {EmptyError} when `block` is false or the timeout passed
   * @throws {InvalidStateError} when the queue is closed and empty, or its process has ended
   */
  get(options?: ProcessQueueOptions): Promise<T> {
    if (options === undefined) {
      const now = this.#link.takeNow(this.#handle);
      if (now !== null && now !== EOF) {
        try {
          return Promise.resolve((now.tag === VALUE ? now.value : fromItem(now)) as T);
        } catch (error) {
          return Promise.reject(error);
        }
      }
    }
    return this.#get(options);
  }

  async #get(options: ProcessQueueOptions | undefined): Promise<T> {
    const timeout = waitOf(options, "get an item from a queue");
    if (options?.signal?.aborted) throw options.signal.reason;
    const now = this.#link.takeNow(this.#handle);
    if (now === EOF) return this.#getResult(END, timeout, undefined);
    if (now !== null) return (now.tag === VALUE ? now.value : fromItem(now)) as T;
    const f = await this.#call(GET, TAKE, 0, getBody(timeout, undefined), options?.signal);
    return this.#getResult(f, timeout, options?.signal);
  }

  /**
   * Take the oldest item, in the maker's own thread, when there is one now (or the queue
   * is closed and empty).
   *
   * @throws {EmptyError} when `block` is false and the queue is empty
   * @throws {TypeError} when the get would have to wait on a socket
   */
  getSync(options?: ProcessQueueOptions): T {
    const timeout = waitOf(options, "get an item from a queue");
    if (options?.signal?.aborted) throw options.signal.reason;
    const f = this.#now("getSync", "get", GET, TAKE, 0, getBody(timeout, undefined));
    return this.#getResult(f, timeout, undefined);
  }

  /**
   * Take the oldest item only if there is one now.
   *
   * @throws {EmptyError} when the queue is empty
   */
  getNowait(): Promise<T> {
    return this.get({ block: false });
  }

  /** Number of items in the queue. */
  async qsize(): Promise<number> {
    return this.#answered(await this.#call(QSTAT, 0, 0, EMPTY_BODY), "read the size of").x;
  }

  /** Blocking twin of {@linkcode ProcessQueue.qsize}: the maker's own thread only. */
  qsizeSync(): number {
    return this.#answered(this.#now("qsizeSync", "qsize", QSTAT, 0, 0, EMPTY_BODY), "read the size of").x;
  }

  /** Whether the queue is empty. */
  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }

  /** Blocking twin of {@linkcode ProcessQueue.empty}: the maker's own thread only. */
  emptySync(): boolean {
    return this.#answered(this.#now("emptySync", "empty", QSTAT, 0, 0, EMPTY_BODY), "read").x === 0;
  }

  /** Whether a bounded queue is full. */
  async full(): Promise<boolean> {
    return this.#answered(await this.#call(QSTAT, 0, 0, EMPTY_BODY), "read").b === 1;
  }

  /** Blocking twin of {@linkcode ProcessQueue.full}: the maker's own thread only. */
  fullSync(): boolean {
    return this.#answered(this.#now("fullSync", "full", QSTAT, 0, 0, EMPTY_BODY), "read").b === 1;
  }

  /**
   * Close the queue for every process: puts fail, gets take what is left and then fail,
   * iteration ends. Idempotent.
   *
   * @throws {InvalidStateError} when the queue's process has ended
   */
  async close(): Promise<void> {
    this.#answered(await this.#call(QCLOSE, 0, 0, EMPTY_BODY), "close");
    this.#closedSeen = true;
  }

  /** Blocking twin of {@linkcode ProcessQueue.close}: the maker's own thread only. */
  closeSync(): void {
    this.#answered(this.#now("closeSync", "close", QCLOSE, 0, 0, EMPTY_BODY), "close");
    this.#closedSeen = true;
  }

  /** Whether the queue was closed. */
  async closed(): Promise<boolean> {
    if (this.#closedSeen) return true;
    const f = await this.#call(QSTAT, 0, 0, EMPTY_BODY);
    return f.op === GONE || this.#answered(f, "read").a === 1;
  }

  /** Take items until the queue is closed and empty. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const f = await this.#call(GET, TAKE, 0, getBody(undefined, undefined));
      if (f.op === EOF) {
        this.#closedSeen = true;
        return;
      }
      yield this.#getResult(f, undefined, undefined);
    }
  }

  /** A short description, like Python's repr. */
  toString(): string {
    return `<${this.constructor.name}(maxsize=${this.#state.maxsize})>`;
  }

  /** Describe this queue for another thread; the copy there is a handle of its own. */
  [toShared](): SharedState {
    const state: State = { ...this.#state, ticket: this.#link.dup(this.#handle) };
    return { kind: KIND, module: import.meta.url, state };
  }

  /** Describe this queue for another OS process, which reaches it over its socket. */
  [toProcess](): SharedState {
    return this[toShared]();
  }

  #call(op: number, a: number, b: number, body: Uint8Array, signal?: AbortSignal): Promise<Frame> {
    return this.#link.call(this.#handle, op, a, b, body, signal);
  }

  #now(sync: string, form: string, op: number, a: number, b: number, body: Uint8Array): Frame {
    if (!this.#link.local) {
      throw new TypeError(
        `Cannot call ${sync}() on a process-context queue outside the thread that made it: a thread cannot block on a socket, use await queue.${form}() instead`,
      );
    }
    const f = this.#link.callNow(this.#handle, op, a, b, body);
    if (f === null) {
      throw new TypeError(
        `Cannot call ${sync}() on a process-context queue now: it would have to wait, and this thread serves the queue; use await queue.${form}() instead`,
      );
    }
    return f;
  }

  #putNow(m: Msg): void {
    if (this.#link.ended) throw ended("put an item in");
    if (this.#closedSeen) throw new InvalidStateError("Cannot put an item in the queue: it is closed");
    this.#link.put(this.#handle, m);
    if (this.#confirming) return;
    // A request behind the puts keeps this process alive until the queue has them, so they
    // are in the queue once it has ended (one request per round trip, not per put); its
    // answer also tells whether the queue was closed meanwhile.
    this.#confirming = true;
    void this.#call(QSTAT, 0, 0, EMPTY_BODY).then((f) => {
      this.#confirming = false;
      if (f.op === OK && f.a === 1) this.#closedSeen = true;
    });
  }

  #answered(f: Frame, what: string): Frame {
    if (f.op === GONE) throw ended(what);
    if (f.op === OK) {
      if (f.a === 1) this.#closedSeen = true;
      else this.#checked = true;
    }
    if (f.op === CLOSED) this.#closedSeen = true;
    if (f.op === CLOSED || (what === "put an item in" && this.#closedSeen)) {
      throw new InvalidStateError("Cannot put an item in the queue: it is closed");
    }
    return f;
  }

  #putResult(f: Frame, item: T, timeout: number | undefined, signal: AbortSignal | undefined): void {
    if (f.op === OK) return;
    if (f.op === CANCELLED) throw signal?.reason;
    if (f.op === TIMEOUT) {
      throw new FullError(
        timeout === 0
          ? "Cannot put an item in the queue: it is full"
          : `Cannot put an item in the queue: it stayed full for ${timeout} ms`,
        item,
      );
    }
    this.#answered(f, "put an item in");
    throw new InvalidStateError(`Cannot put an item in the queue: unexpected answer ${f.op} from the queue's process`);
  }

  #getResult(f: Frame, timeout: number | undefined, signal: AbortSignal | undefined): T {
    switch (f.op) {
      case ITEM:
        return fromItem({ tag: f.a, sub: f.b, body: f.body }) as T;
      case TIMEOUT:
        throw new EmptyError(
          timeout === 0
            ? "Cannot get an item from the queue: it is empty"
            : `Cannot get an item from the queue: it stayed empty for ${timeout} ms`,
        );
      case EOF:
        this.#closedSeen = true;
        throw new InvalidStateError("Cannot get an item from the queue: it is closed and empty");
      case CANCELLED:
        throw signal?.reason;
      case GONE:
        throw ended("get an item from");
      default:
        throw new InvalidStateError(`Cannot get an item from the queue: unexpected answer ${f.op}`);
    }
  }
}

/**
 * A {@linkcode ProcessQueue} whose consumers mark items done, so a producer can wait
 * until all are: what `getContext("process").JoinableQueue()` gives.
 *
 * @typeParam T the items' type
 * @example Usage
 * ```ts
 * import { getContext } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const jobs = await getContext("process").JoinableQueue<number>();
 * await jobs.put(1);
 * assert.equal(await jobs.get(), 1);
 * await jobs.taskDone();
 * await jobs.join();
 * ```
 */
export class ProcessJoinableQueue<T = unknown> extends ProcessQueue<T> {
  /**
   * Mark one item taken with `get` as processed.
   *
   * @throws {InvalidStateError} when called more times than items were put
   */
  async taskDone(): Promise<void> {
    this.#done(await inner.get(this)!.call(QDONE));
  }

  /** Blocking twin of {@linkcode ProcessJoinableQueue.taskDone}: the maker's own thread only. */
  taskDoneSync(): void {
    this.#done(inner.get(this)!.now("taskDoneSync", "taskDone", QDONE));
  }

  /**
   * Wait until every item put has been marked done.
   *
   * @param options `signal` to stop waiting; the promise rejects with its reason
   * @throws {InvalidStateError} when the queue's process has ended
   */
  async join(options?: { signal?: AbortSignal }): Promise<void> {
    if (options?.signal?.aborted) throw options.signal.reason;
    const f = await inner.get(this)!.call(QJOIN, options?.signal);
    if (f.op === CANCELLED) throw options?.signal?.reason;
    inner.get(this)!.answered(f, "join");
  }

  /**
   * Blocking twin of {@linkcode ProcessJoinableQueue.join}: the maker's own thread only,
   * when every item is already done.
   */
  joinSync(): void {
    inner.get(this)!.answered(inner.get(this)!.now("joinSync", "join", QJOIN), "join");
  }

  #done(f: Frame): void {
    if (f.op === REFUSED) {
      throw new InvalidStateError("Cannot mark a task done: taskDone() was called more times than items were put");
    }
    inner.get(this)!.answered(f, "mark a task done in");
  }
}

function waitOf(options: ProcessQueueOptions | undefined, what: string): number | undefined {
  checkTimeout(options?.timeout, what);
  return options?.block === false ? 0 : options?.timeout;
}

function ended(what: string): InvalidStateError {
  return new InvalidStateError(
    `Cannot ${what} the queue: the process that made it has ended, and the queue with it`,
  );
}

/** The tag, sub-tag and body of a QPUT: the timeout, then the item's bytes. */
function putFrame(m: Msg, timeout: number | undefined): [number, number, Uint8Array] {
  const item = msgItem(m);
  const body = new Uint8Array(8 + item.body.length);
  new DataView(body.buffer).setFloat64(0, timeout === undefined || timeout === Infinity ? -1 : timeout, true);
  body.set(item.body, 8);
  return [item.tag, item.sub, body];
}

function make<T>(state: State): ProcessQueue<T> {
  adopted = state;
  return state.joinable ? new ProcessJoinableQueue<T>() : new ProcessQueue<T>();
}

/**
 * A new {@linkcode ProcessQueue} served by this thread: what `getContext("process").Queue()`
 * gives.
 *
 * @typeParam T the items' type
 * @param options `maxsize` (0: unbounded) and `joinable`
 * @returns the queue
 * @throws {RangeError} when `maxsize` is not a non-negative integer
 * @example Usage
 * ```ts
 * import { processQueue } from "@mproc/multiprocessing/ipc";
 * import assert from "node:assert/strict";
 * const queue = processQueue<number>();
 * await queue.put(7);
 * assert.equal(await queue.get(), 7);
 * ```
 */
export function processQueue<T = unknown>(
  options: { maxsize?: number; joinable?: false; what?: string },
): ProcessQueue<T>;
/** A new {@linkcode ProcessJoinableQueue}. */
export function processQueue<T = unknown>(
  options: { maxsize?: number; joinable: true; what?: string },
): ProcessJoinableQueue<T>;
/** A new queue, joinable or not. */
export function processQueue<T = unknown>(
  options?: { maxsize?: number; joinable?: boolean; what?: string },
): ProcessQueue<T>;
export function processQueue<T = unknown>(
  options: { maxsize?: number; joinable?: boolean; what?: string } = {},
): ProcessQueue<T> {
  const { maxsize = 0, joinable = false, what = "queue" } = options;
  if (typeof maxsize !== "number" || !Number.isInteger(maxsize) || maxsize < 0 || maxsize > 0x7fffffff) {
    throw new RangeError(`Cannot create ${what}: maxsize must be a non-negative integer, got ${String(maxsize)}`);
  }
  const hub = localHub();
  return make<T>({ path: hub.path, queue: hub.newQueue(maxsize), maxsize, joinable, ticket: null });
}

registerShareable(KIND, (state: State) => make(state));

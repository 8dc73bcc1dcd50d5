// The thread transport of a manager: one SharedArrayBuffer holding a control
// block and one channel per client thread, each two single-producer byte rings (requests
// in, replies out). A thread claims a channel the first time it uses a proxy, with no
// message to anyone, so a blocked thread or one that just received a proxy in its `args`
// can call at once, and a `Sync` call simply blocks on its reply ring's tail word.
import { wake } from "../_internal/futex.ts";
import { isAlive } from "../_internal/shared_area.ts";

/** Control words. SLEEPING is set while the server sleeps on the doorbell. */
export const STATE = 0, DOORBELL = 1, SERVER_IDENT = 2, SLOTS = 3, CLAIM = 4, SLEEPING = 5;
/** Manager states in the STATE word. */
export const STARTING = 0, RUNNING = 1, CLOSED = 2;

/** Most client threads one manager serves at once. */
export const MAX_CHANNELS = 1024;
const OWNERS = 16;
const CONTROL_BYTES = 8192;
const RING = 32 * 1024;
const HEADER_BYTES = 128;
const CHANNEL_BYTES = HEADER_BYTES + 2 * RING;

/**
 * Channel header words. RES_WAITERS and SPACE_WAITERS count the client's sleeps on
 * RES_TAIL (a reply) and REQ_HEAD (room for a request): the server notifies only then.
 * The words the client writes and those the server writes sit in separate 64-byte cache
 * lines, so that a write by one side does not take the line the other side is writing.
 */
export const REQ_TAIL = 0, RES_HEAD = 1, RES_WAITERS = 2, SPACE_WAITERS = 3;
/** Channel header words the server writes. */
export const REQ_HEAD = 16, RES_TAIL = 17, STALLED = 18;
const NONE = -1;

/**
 * Make the buffer for a new manager, with room for every channel. Its pages are taken
 * from the system only when first written (checked on Node, Deno and Bun: a 64 MiB
 * buffer adds under 1 MiB of RSS), and a fixed-size buffer is faster to use than a
 * growable one: on Bun an Atomics operation on a growable buffer's view took 3-5 times
 * as long.
 */
export function createArea(): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES + MAX_CHANNELS * CHANNEL_BYTES);
}

/** The control words of `area`. */
export function controlOf(area: SharedArrayBuffer): Int32Array {
  return new Int32Array(area, 0, CONTROL_BYTES / 4);
}

/** Who holds channel `i` (0: free). */
export function ownerOf(control: Int32Array, i: number): number {
  return Atomics.load(control, OWNERS + i);
}

// The claim lock is held for a few loads and stores, never across a wait: spinning is
// cheaper than any sleep, and works on threads that may not block.
function lock(control: Int32Array): void {
  while (Atomics.compareExchange(control, CLAIM, 0, 1) !== 0) { /* spin */ }
}

function unlock(control: Int32Array): void {
  Atomics.store(control, CLAIM, 0);
}

/**
 * Claim a free channel for the thread `ident`.
 *
 * @throws {RangeError} when the manager already serves its limit of threads
 */
export function claimChannel(area: SharedArrayBuffer, ident: number): number {
  const control = controlOf(area);
  lock(control);
  try {
    for (let i = 0; i < MAX_CHANNELS; i++) {
      if (Atomics.load(control, OWNERS + i) !== 0) continue;
      new Int32Array(area, CONTROL_BYTES + i * CHANNEL_BYTES, HEADER_BYTES / 4).fill(0);
      Atomics.store(control, OWNERS + i, ident);
      if (Atomics.load(control, SLOTS) < i + 1) Atomics.store(control, SLOTS, i + 1);
      return i;
    }
  } finally {
    unlock(control);
  }
  throw new RangeError(`Cannot connect to the manager: it already serves ${MAX_CHANNELS} threads`);
}

/**
 * Free channel `i` if its owner has ended; returns whether it did. The server calls it,
 * after dropping what the thread left behind.
 */
export function releaseIfDead(control: Int32Array, i: number): boolean {
  const owner = Atomics.load(control, OWNERS + i);
  if (owner === 0 || isAlive(owner)) return false;
  return Atomics.compareExchange(control, OWNERS + i, owner, 0) === owner;
}

// A notify costs a lock and, when it wakes a thread, a system call (several µs on a loaded
// machine): each side says when it sleeps, and the other notifies only then. The sleeper
// raises its flag before its wait re-reads the word and the writer changes the word before
// reading the flag, both sequentially consistent, so one of them sees the other.
//
// The server, while awake, polls every channel's request tail itself, so a request costs
// no shared write beyond its own ring: the doorbell is rung only for a server that says it
// sleeps, and that server looks at every channel again after raising its flag.

/** Ring a manager's doorbell whatever the server is doing: its state changed. */
export function ring(control: Int32Array): void {
  Atomics.add(control, DOORBELL, 1);
  if (Atomics.load(control, SLEEPING) !== 0) wake(control, DOORBELL);
}

/**
 * Wake the server if it sleeps: call after writing to a channel, whose rings the server
 * polls while awake. Returns whether it slept.
 */
export function nudge(control: Int32Array): boolean {
  if (Atomics.load(control, SLEEPING) === 0) return false;
  Atomics.add(control, DOORBELL, 1);
  wake(control, DOORBELL);
  return true;
}

/** Run `sleep` with the waiter count `words[at]` raised, so the other side notifies. */
export function asWaiter<T>(words: Int32Array, at: number, sleep: () => T): T {
  Atomics.add(words, at, 1);
  try {
    return sleep();
  } finally {
    Atomics.sub(words, at, 1);
  }
}

/** {@linkcode asWaiter} for an async sleep. */
export async function asWaiterAsync<T>(words: Int32Array, at: number, sleep: () => Promise<T>): Promise<T> {
  Atomics.add(words, at, 1);
  try {
    return await sleep();
  } finally {
    Atomics.sub(words, at, 1);
  }
}

// A typed-array view costs an allocation; most frames are a few dozen bytes, which a
// plain loop copies sooner than `set(subarray())`.
function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from: number, n: number): void {
  if (n > 64) {
    dst.set(src.subarray(from, from + n), at);
    return;
  }
  for (let i = 0; i < n; i++) dst[at + i] = src[from + i];
}

/**
 * One direction of a channel: a single-producer, single-consumer byte ring. Each side
 * makes its own instance and uses it in one role only: it keeps its own index (only it
 * writes that word) and the last value it read of the other side's, and reads the shared
 * word again only when that cached value says the ring is full or empty.
 */
export class ByteRing {
  readonly #words: Int32Array;
  readonly #head: number;
  readonly #tail: number;
  readonly #data: Uint8Array;
  readonly #headWaiters: number;
  readonly #tailWaiters: number;
  // This side's index (tail for the producer, head for the consumer), once read.
  #mine = 0;
  #known = false;
  // The other side's index as last read.
  #theirs = 0;

  /** `headWaiters`/`tailWaiters`: the word counting sleepers on head or tail, or NONE. */
  constructor(
    words: Int32Array,
    head: number,
    tail: number,
    data: Uint8Array,
    headWaiters: number,
    tailWaiters: number,
  ) {
    this.#words = words;
    this.#head = head;
    this.#tail = tail;
    this.#data = data;
    this.#headWaiters = headWaiters;
    this.#tailWaiters = tailWaiters;
  }

  #own(at: number): number {
    if (!this.#known) {
      this.#mine = Atomics.load(this.#words, at);
      this.#theirs = Atomics.load(this.#words, at === this.#tail ? this.#head : this.#tail);
      this.#known = true;
    }
    return this.#mine;
  }

  /** Producer: copy as much of `src[from, end)` as fits; returns the new `from`. */
  put(src: Uint8Array, from: number, end: number = src.length): number {
    const w = this.#words;
    const tail = this.#own(this.#tail);
    const want = end - from;
    let free = RING - ((tail - this.#theirs) >>> 0);
    if (free < want) {
      this.#theirs = Atomics.load(w, this.#head);
      free = RING - ((tail - this.#theirs) >>> 0);
    }
    const n = Math.min(free, want);
    if (n === 0) return from;
    const at = (tail >>> 0) % RING;
    const first = Math.min(n, RING - at);
    copyBytes(this.#data, at, src, from, first);
    if (first < n) copyBytes(this.#data, 0, src, from + first, n - first);
    this.#mine = (tail + n) | 0;
    Atomics.store(w, this.#tail, this.#mine);
    if (this.#tailWaiters !== NONE && Atomics.load(w, this.#tailWaiters) !== 0) wake(w, this.#tail);
    return from + n;
  }

  /** Consumer: whether bytes are waiting. */
  waiting(): boolean {
    return Atomics.load(this.#words, this.#tail) !== this.#own(this.#head);
  }

  /** Consumer: copy up to `max` waiting bytes into `dst` at `at`; returns how many. */
  take(dst: Uint8Array, at: number, max: number): number {
    const w = this.#words;
    const head = this.#own(this.#head);
    let ready = (this.#theirs - head) >>> 0;
    if (ready < max) {
      this.#theirs = Atomics.load(w, this.#tail);
      ready = (this.#theirs - head) >>> 0;
    }
    const n = Math.min(max, ready);
    if (n === 0) return 0;
    const from = (head >>> 0) % RING;
    const first = Math.min(n, RING - from);
    copyBytes(dst, at, this.#data, from, first);
    if (first < n) copyBytes(dst, at + first, this.#data, 0, n - first);
    this.#mine = (head + n) | 0;
    Atomics.store(w, this.#head, this.#mine);
    if (this.#headWaiters !== NONE && Atomics.load(w, this.#headWaiters) !== 0) wake(w, this.#head);
    return n;
  }
}

/** Channel `i` of `area`: its header words and its two rings. */
export interface Channel {
  words: Int32Array;
  requests: ByteRing;
  replies: ByteRing;
}

/** Views over channel `i`; the buffer must already be large enough. */
export function channelAt(area: SharedArrayBuffer, i: number): Channel {
  const base = CONTROL_BYTES + i * CHANNEL_BYTES;
  const words = new Int32Array(area, base, HEADER_BYTES / 4);
  // The server sleeps on the doorbell, never on a ring word: only the client's sleeps count.
  const requests = new ByteRing(
    words,
    REQ_HEAD,
    REQ_TAIL,
    new Uint8Array(area, base + HEADER_BYTES, RING),
    SPACE_WAITERS,
    NONE,
  );
  const replies = new ByteRing(
    words,
    RES_HEAD,
    RES_TAIL,
    new Uint8Array(area, base + HEADER_BYTES + RING, RING),
    NONE,
    RES_WAITERS,
  );
  return { words, requests, replies };
}

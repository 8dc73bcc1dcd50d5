// The byte ring under every queue and pipe: records in a SharedArrayBuffer, written by
// many producers and read by many consumers, on any mix of threads.
//
// Control words (one small SAB) and data (another, growable when the ring may grow):
//
//   HEAD, TAIL   byte positions, wrapping at 2^32; a record sits at pos & (CAP - 1)
//   CAP          data bytes in use, a power of two; changes only under both locks
//   PUTS, GETS   whole messages committed and taken; PUTS - GETS is qsize
//   WLOCK/RLOCK  one writer and one reader at a time: ident of the holder | WAITERS bit;
//                a holder that ends is taken over (robust, like sync's locks)
//   SEQ          bumped when a message in pieces starts or is given up: a reader in the middle of a
//                message in pieces knows the message is torn once it changes
//
// A record is an 8-byte header (payload length, then flags | tag << 8 | sub << 16) and
// its payload, padded to 8 bytes; records never wrap: a PAD record fills the end. A
// message that fits the ring is one record (FIRST | LAST). A larger one is a START record
// (FIRST: total length, SEQ and the writer's ident) then pieces, the final one flagged LAST, all written
// under one hold of WLOCK.
//
// Torn records cannot happen: a writer publishes a record by storing TAIL after its
// bytes, so a writer that dies mid-record leaves nothing visible. A writer that dies (or
// gives up on a timeout) between pieces leaves a message without LAST; readers drop such
// a message as soon as SEQ or WLOCK says its writer is gone, and skip pieces whose
// START they never saw.
//
// Sleeping: readers sleep on TAIL (raising C_WANT first), writers on HEAD (P_WANT),
// waiters for a lock on the lock word (its WAITERS bit). Every sleep is a bounded slice of
// the futex core, so a dead peer or a missed wake costs one slice.
import { SPIN, waitSlice, waitSliceAsync, wake } from "../_internal/futex.ts";
import { identity } from "../_internal/identity.ts";
import { isAlive } from "../_internal/shared_area.ts";
import { fromBytes, type Msg, readPayload, writePayload } from "./_codec.ts";

// Words are grouped by who writes them, one cache line (16 words) per group, so a
// producer and a consumer on two cores do not fight over one line.
const CAP = 0; // set at creation and under both locks; read by all
const MAXSIZE = 1;
const CEILING = 2;
const JOINABLE = 3;
const CLOSED = 4;
const TAIL = 16; // the writers' line
const WLOCK = 17;
const PUTS = 18; // messages committed, ever (wrapping)
const SEQ = 19;
const HEAD = 32; // the readers' line
const RLOCK = 33;
const GETS = 34; // messages taken, ever (wrapping)
const C_WANT = 48; // a reader sleeps on TAIL
const P_WANT = 64; // a writer sleeps on HEAD
const UNFINISHED = 80; // JoinableQueue
const J_WANT = 81;
const WORDS = 96;

/** Bytes of control words per ring. */
export const CONTROL_BYTES: number = WORDS * 4;

const LOCKED_WAITERS = 0x40000000;
const IDENT_MASK = 0x1fffffff;

const FIRST = 1;
const LAST = 2;
const PAD = 4;
const HEADER = 8;
const START_BYTES = HEADER + 16;

/** Smallest ring, in bytes. */
export const MIN_BYTES = 256;
/** Largest ring: the most an unbounded queue grows to (1 GiB). */
export const MAX_BYTES: number = 2 ** 30;

/** Step results. */
export const DONE = 0;
/** The operation must sleep: see the op's wait fields. */
export const WAIT = 1;
/** Put on a ring nobody will read (queue closed, pipe's reader gone). */
export const DEAF = 2;
/** Get on a ring nobody will write to and that holds nothing. */
export const ENDED = 3;
/** A non-blocking put found no room, or an unbounded ring reached its ceiling. */
export const FULL = 4;
/** A non-blocking get found nothing. */
export const EMPTY = 5;
/** The deadline passed. */
export const TIMEOUT = 6;
/** The message at the head failed the reader's check and was left in place. */
export const REFUSED = 7;
/** A put reached the ceiling of an unbounded ring. */
export const CEILING_REACHED = 8;

/** What a ring is made of, for another thread. */
export interface RingState {
  ctl: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

/** How a ring decides that nobody will read it, or nobody will write to it any more. */
export interface RingEnds {
  /**
   * No reader will come: puts fail. `waiting` says the put is about to sleep, so a
   * slower, thorough check (liveness of every reader) is worth it.
   */
  deaf(waiting: boolean): boolean;
  /** No writer will come: a get on an empty ring ends. */
  ended(): boolean;
}

/** The queue's own ends: one CLOSED word. */
const QUEUE_ENDS = (ctl: Int32Array): RingEnds => ({
  deaf: () => Atomics.load(ctl, CLOSED) !== 0,
  ended: () => Atomics.load(ctl, CLOSED) !== 0,
});

function pow2AtLeast(n: number): number {
  let p = MIN_BYTES;
  while (p < n) p *= 2;
  return p;
}

function r8(n: number): number {
  return (n + 7) & ~7;
}

class Op {
  holdW = false;
  holdR = false;
  waitIdx = 0;
  waitVal = 0;
  /** The WANT word to raise before sleeping, or -1 for a lock word. */
  waitCounter = -1;
  /** Spin on the word before sleeping (data hand-offs, where latency matters). */
  spin = false;
  constructor(readonly me: number, readonly nowait: boolean) {}
  wait(idx: number, val: number, counter: number, spin = false): number {
    this.waitIdx = idx;
    this.waitVal = val;
    this.waitCounter = counter;
    this.spin = spin;
    return WAIT;
  }
}

/** One put in progress. */
export class PutOp extends Op {
  /** The START record is committed: the message is under way. */
  started = false;
  offset = 0;
  constructor(me: number, nowait: boolean, readonly msg: Msg) {
    super(me, nowait);
  }
}

/** One get in progress. */
export class GetOp extends Op {
  /** The message being assembled from pieces. */
  buf: Uint8Array | undefined = undefined;
  off = 0;
  seq = 0;
  writer = 0;
  tag = 0;
  sub = 0;
  value: unknown = undefined;
  /** Peek check: returns false to leave a message of `len` bytes in the ring. */
  check: ((tag: number, len: number) => boolean) | undefined = undefined;
  /** Only look: report DONE when a message (or the end) is there, consume nothing. */
  peek = false;
}

function tryLock(c: Int32Array, i: number, me: number): boolean {
  if (Atomics.compareExchange(c, i, 0, me) === 0) return true;
  for (let n = 0; n < SPIN; n++) {
    if (Atomics.load(c, i) === 0 && Atomics.compareExchange(c, i, 0, me) === 0) return true;
  }
  return false;
}

/** Take a held lock word from a dead holder, or return the value to sleep on (0: taken). */
function lockStep(c: Int32Array, i: number, me: number): number {
  for (;;) {
    const v = Atomics.load(c, i);
    if (v === 0) {
      if (Atomics.compareExchange(c, i, 0, me | LOCKED_WAITERS) === 0) return 0;
      continue;
    }
    if (!isAlive(v & IDENT_MASK)) {
      if (Atomics.compareExchange(c, i, v, me | LOCKED_WAITERS) === v) return 0;
      continue;
    }
    if ((v & LOCKED_WAITERS) === 0 && Atomics.compareExchange(c, i, v, v | LOCKED_WAITERS) !== v) continue;
    return v | LOCKED_WAITERS;
  }
}

/**
 * Wake the sleepers on `word` if one asked to be woken. Sleepers raise the WANT word
 * before each sleep and the first waker lowers it, so a stream of commits costs one
 * wake per sleep, not one per record. The sleeper's wait re-checks `word` itself, so a
 * commit between raising WANT and sleeping is never missed.
 */
function wakeIfWanted(c: Int32Array, want: number, word: number): void {
  if (Atomics.load(c, want) !== 0 && Atomics.exchange(c, want, 0) !== 0) wake(c, word);
}

const SPUN: Promise<boolean> = Promise.resolve(true);

/**
 * Loads a reader spins on an empty ring before sleeping (a few µs): a futex wake costs
 * ~45 µs, so a producer a little slower than its consumer would otherwise pay one wake
 * per item.
 */
const SPIN_READ = SPIN * 16;

function unlock(c: Int32Array, i: number): void {
  if ((Atomics.exchange(c, i, 0) & LOCKED_WAITERS) !== 0) wake(c, i, 1);
}

/** A byte ring in shared memory; see the top of this file. */
export class Ring {
  readonly ctl: Int32Array;
  readonly data: SharedArrayBuffer;
  ends: RingEnds;
  // The head a writer and the tail a reader in this thread saw last: lower bounds of
  // the real ones, read again only when they say there is no room, or nothing to read.
  #head = 0;
  #tail = 0;
  #u8: Uint8Array;
  #u16: Uint16Array;
  #i32: Int32Array;
  #f64: Float64Array;

  /**
   * A new ring of `bytes` (rounded up to a power of two), growing up to `ceiling` when
   * that is larger; `maxsize` bounds the messages it holds (0: no bound).
   */
  static create(bytes: number, ceiling: number, maxsize: number, joinable = false): Ring {
    const cap = pow2AtLeast(bytes);
    const top = ceiling > cap ? pow2AtLeast(ceiling) : cap;
    const ctl = new SharedArrayBuffer(CONTROL_BYTES);
    const data = top > cap ? new SharedArrayBuffer(cap, { maxByteLength: top }) : new SharedArrayBuffer(cap);
    const c = new Int32Array(ctl);
    c[CAP] = cap;
    c[CEILING] = top;
    c[MAXSIZE] = maxsize;
    c[JOINABLE] = joinable ? 1 : 0;
    return new Ring({ ctl, data });
  }

  constructor(state: RingState) {
    this.ctl = new Int32Array(state.ctl);
    this.data = state.data;
    this.ends = QUEUE_ENDS(this.ctl);
    this.#u8 = new Uint8Array(this.data);
    this.#u16 = new Uint16Array(this.data);
    this.#i32 = new Int32Array(this.data);
    this.#f64 = new Float64Array(this.data);
  }

  /** This ring's memory, for another thread. */
  state(): RingState {
    return { ctl: this.ctl.buffer as SharedArrayBuffer, data: this.data };
  }

  /** Messages committed and not yet taken; approximate while others put and get. */
  items(): number {
    const n = (Atomics.load(this.ctl, PUTS) - Atomics.load(this.ctl, GETS)) | 0;
    return n > 0 ? n : 0;
  }

  /** The bound on messages, 0 for none. */
  get maxsize(): number {
    return this.ctl[MAXSIZE];
  }

  /** Bytes of data memory now. */
  get capacity(): number {
    return Atomics.load(this.ctl, CAP);
  }

  /** Bytes of records waiting to be read. */
  usedBytes(): number {
    return (Atomics.load(this.ctl, TAIL) - Atomics.load(this.ctl, HEAD)) >>> 0;
  }

  /** Whether a message (or a piece of one) waits at the head. */
  hasData(): boolean {
    return Atomics.load(this.ctl, HEAD) !== Atomics.load(this.ctl, TAIL);
  }

  /** Mark the queue closed and wake every sleeper so it sees it. */
  close(): void {
    Atomics.store(this.ctl, CLOSED, 1);
    this.wakeAll();
  }

  /** Whether {@linkcode Ring.close} was called. */
  get closed(): boolean {
    return Atomics.load(this.ctl, CLOSED) !== 0;
  }

  /** Wake every sleeper, so it re-checks the ends. */
  wakeAll(): void {
    wake(this.ctl, TAIL);
    wake(this.ctl, HEAD);
  }

  #views(cap: number): void {
    // Views over a growable buffer track its length; this only matters where a runtime
    // hands another thread a fixed-length view.
    if (this.#u8.length < cap) {
      this.#u8 = new Uint8Array(this.data);
      this.#u16 = new Uint16Array(this.data);
      this.#i32 = new Int32Array(this.data);
      this.#f64 = new Float64Array(this.data);
    }
  }

  // ---- writing ----

  #takeW(op: PutOp): number {
    const c = this.ctl;
    if (!tryLock(c, WLOCK, op.me)) {
      const v = lockStep(c, WLOCK, op.me);
      if (v !== 0) return op.wait(WLOCK, v, -1);
    }
    op.holdW = true;
    return DONE;
  }

  #releaseW(op: PutOp): void {
    op.holdW = false;
    unlock(this.ctl, WLOCK);
  }

  /** Advance the put as far as it goes now. */
  putStep(op: PutOp): number {
    const c = this.ctl;
    if (!op.holdW && this.#takeW(op) === WAIT) return WAIT;
    if (!op.started) {
      // WLOCK names this writer before this check, so a reader that sees the queue
      // closed and empty also sees this writer and waits for its record.
      if (this.ends.deaf(false)) {
        this.#releaseW(op);
        return DEAF;
      }
      const maxsize = c[MAXSIZE];
      if (maxsize > 0 && ((c[PUTS] - Atomics.load(c, GETS)) | 0) >= maxsize) return this.#waitForRoom(op);
      const need = HEADER + r8(op.msg.len);
      if (need <= c[CEILING]) return this.#putSingle(op, need);
    }
    return this.#putPieces(op);
  }

  #waitForRoom(op: PutOp): number {
    const head = Atomics.load(this.ctl, HEAD);
    this.#releaseW(op);
    if (op.nowait) return FULL;
    if (this.ends.deaf(true)) return DEAF;
    return op.wait(HEAD, head, P_WANT);
  }

  #putSingle(op: PutOp, need: number): number {
    const c = this.ctl;
    let head = this.#head;
    for (let fresh = false;;) {
      const cap = c[CAP];
      this.#views(cap);
      let tail = c[TAIL];
      const used = (tail - head) >>> 0;
      let at = tail & (cap - 1);
      const room = cap - at;
      const total = need <= room ? need : room + need;
      if (used > cap || cap - used < total) {
        // The head this thread saw last may be stale: look again before waiting or growing.
        if (!fresh) {
          head = this.#head = Atomics.load(c, HEAD);
          fresh = true;
          continue;
        }
        if (cap < c[CEILING]) {
          const r = this.#grow(op, used + total);
          if (r !== DONE) return r;
          continue;
        }
        if (c[MAXSIZE] === 0 && this.data.growable) {
          this.#releaseW(op);
          return CEILING_REACHED;
        }
        return this.#waitForRoom(op);
      }
      if (need > room) {
        this.#header(at, room - HEADER, PAD);
        tail = (tail + room) | 0;
        at = 0;
      }
      const m = op.msg;
      this.#header(at, m.len, FIRST | LAST | (m.tag << 8) | (m.sub << 16));
      writePayload(m, this.#u8, this.#u16, this.#f64, at + HEADER);
      if (c[JOINABLE] !== 0) Atomics.add(c, UNFINISHED, 1);
      Atomics.store(c, TAIL, (tail + need) | 0);
      Atomics.add(c, PUTS, 1);
      this.#releaseW(op);
      wakeIfWanted(c, C_WANT, TAIL);
      return DONE;
    }
  }

  #header(at: number, len: number, flags: number): void {
    const i = at >> 2;
    this.#i32[i] = len;
    this.#i32[i + 1] = flags;
  }

  /** Grow to hold `wanted` bytes; needs the read lock too, taken after the write lock. */
  #grow(op: PutOp, wanted: number): number {
    const c = this.ctl;
    if (!op.holdR) {
      if (!tryLock(c, RLOCK, op.me)) {
        const v = lockStep(c, RLOCK, op.me);
        if (v !== 0) return op.wait(RLOCK, v, -1);
      }
      op.holdR = true;
    }
    const cap = c[CAP];
    const next = Math.min(c[CEILING], pow2AtLeast(Math.max(cap * 2, wanted * 2)));
    const head = Atomics.load(c, HEAD);
    const used = (c[TAIL] - head) >>> 0;
    // Positions keep their meaning; only their place in memory moves from pos & (cap-1)
    // to pos & (next-1). Save the used bytes, grow, put them back.
    const from = head & (cap - 1);
    const saved = new Uint8Array(used);
    const first = Math.min(used, cap - from);
    saved.set(this.#u8.subarray(from, from + first));
    if (first < used) saved.set(this.#u8.subarray(0, used - first), first);
    this.data.grow(next);
    this.#views(next);
    const to = head & (next - 1);
    const fit = Math.min(used, next - to);
    this.#u8.set(saved.subarray(0, fit), to);
    if (fit < used) this.#u8.set(saved.subarray(fit), 0);
    Atomics.store(c, CAP, next);
    op.holdR = false;
    unlock(c, RLOCK);
    return DONE;
  }

  #putPieces(op: PutOp): number {
    const c = this.ctl;
    const cap = c[CAP];
    this.#views(cap);
    const m = op.msg;
    const bytes = m.bytes!;
    for (;;) {
      // A writer whose lock was taken over, because the liveness table says it ended
      // (a runtime may let a terminated worker run on for a moment), must not write on.
      if (op.started && (Atomics.load(c, WLOCK) & IDENT_MASK) !== op.me) {
        op.holdW = false;
        op.started = false;
        return DEAF;
      }
      const head = Atomics.load(c, HEAD);
      let tail = c[TAIL];
      const free = cap - ((tail - head) >>> 0);
      const at = tail & (cap - 1);
      const room = cap - at;
      if (room < START_BYTES) {
        if (free < room) return this.#waitMidMessage(op, head);
        this.#header(at, room - HEADER, PAD);
        tail = (tail + room) | 0;
        Atomics.store(c, TAIL, tail);
        continue;
      }
      if (!op.started) {
        if (op.nowait) {
          this.#releaseW(op);
          return FULL;
        }
        if (free < START_BYTES) return this.#waitForRoom(op);
        this.#header(at, 16, FIRST | (m.tag << 8) | (m.sub << 16));
        this.#i32[(at >> 2) + 2] = m.len;
        this.#i32[(at >> 2) + 3] = Atomics.add(c, SEQ, 1) + 1;
        this.#i32[(at >> 2) + 4] = op.me;
        if (c[JOINABLE] !== 0) Atomics.add(c, UNFINISHED, 1);
        op.started = true;
        this.#commit((tail + START_BYTES) | 0, false);
        continue;
      }
      const left = m.len - op.offset;
      const avail = (Math.min(free, room) - HEADER) & ~7;
      // Wait for a useful amount of room rather than writing crumbs; room cut short by
      // the end of the ring is filled anyway, since waiting would not lengthen it.
      if (avail < left && free < room && avail < cap >> 2) return this.#waitMidMessage(op, head);
      const n = Math.min(left, avail);
      const last = n === left;
      this.#header(at, n, last ? LAST : 0);
      this.#u8.set(bytes.subarray(op.offset, op.offset + n), at + HEADER);
      op.offset += n;
      this.#commit((tail + HEADER + r8(n)) | 0, last);
      if (last) {
        this.#releaseW(op);
        return DONE;
      }
    }
  }

  #waitMidMessage(op: PutOp, head: number): number {
    if (!op.started) return this.#waitForRoom(op);
    // Keep the write lock: the rest of this message must follow its first pieces.
    if (this.ends.deaf(true)) {
      this.abandonPut(op);
      return DEAF;
    }
    return op.wait(HEAD, head, P_WANT);
  }

  #commit(tail: number, last: boolean): void {
    const c = this.ctl;
    Atomics.store(c, TAIL, tail);
    if (last) Atomics.add(c, PUTS, 1);
    wakeIfWanted(c, C_WANT, TAIL);
  }

  /** Give up a put (timeout, abort): release what it holds; readers drop a partial message. */
  abandonPut(op: PutOp): void {
    const c = this.ctl;
    if (op.holdR) {
      op.holdR = false;
      unlock(c, RLOCK);
    }
    if (!op.holdW) return;
    if (op.started) {
      if (c[JOINABLE] !== 0) Atomics.sub(c, UNFINISHED, 1);
      Atomics.add(c, SEQ, 1); // readers in the middle of this message drop it
    }
    op.started = false;
    this.#releaseW(op);
    wakeIfWanted(c, C_WANT, TAIL);
  }

  // ---- reading ----

  /** Advance the get as far as it goes now. */
  getStep(op: GetOp): number {
    const c = this.ctl;
    if (!op.holdR) {
      const tail = Atomics.load(c, TAIL);
      if (Atomics.load(c, HEAD) === tail) return this.#empty(op, tail);
      if (op.peek) return DONE;
      if (!tryLock(c, RLOCK, op.me)) {
        const v = lockStep(c, RLOCK, op.me);
        if (v !== 0) return op.nowait ? EMPTY : op.wait(RLOCK, v, -1);
      }
      op.holdR = true;
    }
    for (;;) {
      const head = c[HEAD];
      let tail = this.#tail;
      const ahead = (tail - head) >>> 0;
      // The tail this thread saw last is good while it is ahead of the head (other
      // readers may have moved the head past it).
      if (ahead === 0 || ahead > c[CAP]) tail = this.#tail = Atomics.load(c, TAIL);
      if (head === tail) {
        if (op.buf === undefined) {
          op.holdR = false;
          unlock(c, RLOCK);
          return this.#empty(op, tail);
        }
        const seq = Atomics.load(c, SEQ);
        const writer = Atomics.load(c, WLOCK) & IDENT_MASK;
        if (Atomics.load(c, TAIL) !== head) continue;
        if (seq !== op.seq || writer !== op.writer || !isAlive(writer)) {
          op.buf = undefined; // torn: its writer gave up or died
          // A writer that gives up takes its task back itself (and bumps SEQ); one that
          // died cannot, so join() would wait for an item that never comes.
          if (seq === op.seq && c[JOINABLE] !== 0) this.taskDone();
          continue;
        }
        return op.wait(TAIL, head, C_WANT, true);
      }
      const cap = c[CAP];
      this.#views(cap);
      const at = head & (cap - 1);
      const len = this.#i32[at >> 2];
      const word = this.#i32[(at >> 2) + 1];
      const flags = word & 0xff;
      const next = (head + HEADER + r8(len)) | 0;
      if ((flags & PAD) !== 0) {
        this.#advance(next, false);
        continue;
      }
      if ((flags & FIRST) !== 0) {
        op.buf = undefined;
        const tag = (word >> 8) & 0xff;
        const sub = (word >> 16) & 0xff;
        const single = (flags & LAST) !== 0;
        const total = single ? len : this.#i32[(at >> 2) + 2] >>> 0;
        if (op.check !== undefined && !op.check(tag, total)) {
          op.holdR = false;
          unlock(c, RLOCK);
          return REFUSED;
        }
        if (single) {
          op.value = readPayload(tag, sub, this.#u8, this.#u16, this.#f64, at + HEADER, len);
          return this.#finish(op, next);
        }
        op.buf = new Uint8Array(total);
        op.off = 0;
        op.seq = this.#i32[(at >> 2) + 3];
        op.writer = this.#i32[(at >> 2) + 4];
        op.tag = tag;
        op.sub = sub;
        this.#advance(next, false);
        continue;
      }
      const last = (flags & LAST) !== 0;
      if (op.buf === undefined) {
        this.#advance(next, last); // a piece whose START was taken by a reader that died
        continue;
      }
      op.buf.set(this.#u8.subarray(at + HEADER, at + HEADER + len), op.off);
      op.off += len;
      if (!last) {
        this.#advance(next, false);
        continue;
      }
      const bytes = op.buf;
      op.buf = undefined;
      op.value = fromBytes(op.tag, op.sub, bytes, true);
      return this.#finish(op, next);
    }
  }

  #empty(op: GetOp, tail: number): number {
    const c = this.ctl;
    if (this.ends.ended()) {
      // A writer that took the lock before the end was marked may still commit.
      const writer = Atomics.load(c, WLOCK) & IDENT_MASK;
      if (Atomics.load(c, TAIL) === tail && (writer === 0 || !isAlive(writer))) return ENDED;
    }
    if (op.nowait) return EMPTY;
    return op.wait(TAIL, tail, C_WANT, true);
  }

  #finish(op: GetOp, next: number): number {
    this.#advance(next, true);
    op.holdR = false;
    unlock(this.ctl, RLOCK);
    return DONE;
  }

  #advance(next: number, last: boolean): void {
    const c = this.ctl;
    if (last) Atomics.add(c, GETS, 1);
    Atomics.store(c, HEAD, next);
    if (Atomics.load(c, P_WANT) === 0) return;
    // A writer waiting for room is woken once half the ring is free, not at every
    // record, or it would wake to write one record and sleep again; a writer waiting
    // for maxsize is woken by every item taken. (The cached tail may be stale: that
    // only wakes it sooner.)
    const cap = c[CAP];
    const used = (this.#tail - next) >>> 0;
    if (used <= cap >> 1 || used > cap || (last && c[MAXSIZE] > 0)) wakeIfWanted(c, P_WANT, HEAD);
  }

  /** Give up a get that has consumed nothing (timeout, abort); a message half read is kept going. */
  abandonGet(op: GetOp): void {
    if (op.holdR) {
      op.holdR = false;
      unlock(this.ctl, RLOCK);
    }
  }

  // ---- running an op to its end ----

  /** Run a put, blocking between steps; returns DONE or why it stopped. */
  putSync(op: PutOp, deadline: number): number {
    for (;;) {
      const r = this.putStep(op);
      if (r !== WAIT) return r;
      if (!this.sleepSync(op, deadline)) {
        this.abandonPut(op);
        return TIMEOUT;
      }
    }
  }

  /** Run a put without blocking the thread; rejects with the signal's reason after giving it up. */
  async putAsync(op: PutOp, deadline: number, signal: AbortSignal | undefined): Promise<number> {
    for (;;) {
      const r = this.putStep(op);
      if (r !== WAIT) return r;
      let more: boolean;
      try {
        more = await this.sleepAsync(op, deadline, signal);
      } catch (reason) {
        this.abandonPut(op);
        throw reason;
      }
      if (!more) {
        this.abandonPut(op);
        return TIMEOUT;
      }
    }
  }

  /** Run a get, blocking between steps. A message half read is finished whatever the deadline. */
  getSync(op: GetOp, deadline: number): number {
    for (;;) {
      const r = this.getStep(op);
      if (r !== WAIT) return r;
      if (!this.sleepSync(op, op.buf === undefined ? deadline : Infinity)) {
        this.abandonGet(op);
        return TIMEOUT;
      }
    }
  }

  /** Run a get without blocking the thread. */
  async getAsync(op: GetOp, deadline: number, signal: AbortSignal | undefined): Promise<number> {
    for (;;) {
      const r = this.getStep(op);
      if (r !== WAIT) return r;
      const whole = op.buf === undefined;
      let more: boolean;
      try {
        more = await this.sleepAsync(op, whole ? deadline : Infinity, whole ? signal : undefined);
      } catch (reason) {
        this.abandonGet(op);
        throw reason;
      }
      if (!more) {
        this.abandonGet(op);
        return TIMEOUT;
      }
    }
  }

  // ---- sleeping ----

  /** Sleep one slice on the op's word; false when the deadline had passed. */
  sleepSync(op: Op, deadline: number): boolean {
    const c = this.ctl;
    if (op.spin && this.#spin(op)) return true;
    if (op.waitCounter >= 0) Atomics.store(c, op.waitCounter, 1);
    return waitSlice(c, op.waitIdx, op.waitVal, deadline);
  }

  /** The same without blocking the thread; rejects with the signal's reason. */
  sleepAsync(op: Op, deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    const c = this.ctl;
    if (op.spin && this.#spin(op)) return SPUN;
    if (op.waitCounter >= 0) Atomics.store(c, op.waitCounter, 1);
    return waitSliceAsync(c, op.waitIdx, op.waitVal, deadline, signal);
  }

  #spin(op: Op): boolean {
    const c = this.ctl;
    for (let n = 0; n < SPIN_READ; n++) if (Atomics.load(c, op.waitIdx) !== op.waitVal) return true;
    return false;
  }

  // ---- JoinableQueue ----

  /** Count one task done; false when there were none outstanding. */
  taskDone(): boolean {
    const c = this.ctl;
    for (;;) {
      const n = Atomics.load(c, UNFINISHED);
      if (n <= 0) return false;
      if (Atomics.compareExchange(c, UNFINISHED, n, n - 1) !== n) continue;
      if (n === 1) wakeIfWanted(c, J_WANT, UNFINISHED);
      return true;
    }
  }

  /** Tasks put and not yet marked done. */
  unfinished(): number {
    return Atomics.load(this.ctl, UNFINISHED);
  }

  /** An op that waits for UNFINISHED to reach 0. */
  joinStep(op: Op): number {
    const n = Atomics.load(this.ctl, UNFINISHED);
    return n === 0 ? DONE : op.wait(UNFINISHED, n, J_WANT);
  }

  /** A plain op for {@linkcode Ring.joinStep}. */
  static waiter(): Op {
    return new Op(identity().ident, false);
  }
}

/** A new put of `msg` by this thread. */
export function putOp(msg: Msg, nowait: boolean): PutOp {
  return new PutOp(identity().ident, nowait, msg);
}

/** A new get by this thread. */
export function getOp(nowait: boolean): GetOp {
  return new GetOp(identity().ident, nowait);
}

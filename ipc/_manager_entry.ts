// First module a manager's server thread runs: serve every thread's channel in the
// shared buffer, and TCP clients when the manager has an address, until the owner marks
// the buffer closed. The loop drains all channels, spins briefly for the next request
// (a futex wake costs ~45 µs, a spinning hand-off well under one), then sleeps on the
// doorbell. A manager without a TCP address sleeps in a blocking Atomics.wait, which
// wakes several times faster than Atomics.waitAsync (that goes through the event loop),
// in slices of WAIT_MS, and gives timers (wait timeouts) a turn between slices. One that
// listens on TCP sleeps in waitAsync, so that sockets are served as soon as data comes:
// Deno's event loop does not poll sockets between blocking slices (a handshake took 7 s).
import { errorToRecord } from "../_internal/error_record.ts";
import { SLICE_MS, waitSlice, waitSliceAsync } from "../_internal/futex.ts";
import { endThread, enterChild } from "../_internal/worker_child.ts";
import type { Call, Peer } from "./_manager_call.ts";
import {
  asWaiter,
  asWaiterAsync,
  type Channel,
  channelAt,
  CLOSED,
  controlOf,
  DOORBELL,
  ownerOf,
  releaseIfDead,
  RUNNING,
  SLEEPING,
  SLOTS,
  STALLED,
  STATE,
} from "./_manager_channel.ts";
import { FrameAssembler } from "./_manager_frames.ts";
import { waitingOnLoop } from "./_manager_objects.ts";
import { ManagerServer, type TypeSpec } from "./_manager_server.ts";
import { serveTcp, type TcpAddress } from "./_manager_tcp.ts";

/** What the server thread receives. */
export interface ServerPayload {
  area: SharedArrayBuffer;
  uid: string;
  types: [string, TypeSpec][];
  tcp: TcpAddress | null;
}

/** What the server thread tells its owner. */
export type ServerMessage =
  | { t: "ready"; port: number | null }
  | { t: "error"; error: ReturnType<typeof errorToRecord> };

/** Spin this long (ms) for the next request before sleeping on the doorbell. */
const SPIN_MS = 0.1;
/** How long after its last request the server still spins for the next. */
const TALKING_MS = 5;
/** Longest run of busy serving before timers and sockets get a turn. */
const BUSY_MS = 4;
/** How often channels of ended threads are reclaimed. */
const SWEEP_MS = 100;
/** Longest blocking sleep while a wait timer or an async method is pending. */
const WAIT_MS = 1;
/** Longest blocking sleep otherwise: a new TCP connection waits at most this long. */
const IDLE_WAIT_MS = 20;

/** The server's side of one thread's channel. */
class ChannelPeer implements Peer {
  closed = false;
  readonly waiting: Map<number, Call> = new Map();
  readonly #asm = new FrameAssembler();
  readonly #out: Uint8Array[] = [];
  #outPos = 0;
  readonly #take: (dst: Uint8Array, at: number, max: number) => number;
  readonly #onFrame: (frame: Uint8Array, length: number) => void;

  constructor(readonly owner: number, readonly channel: Channel, server: ManagerServer) {
    this.#take = (dst, at, max) => channel.requests.take(dst, at, max);
    this.#onFrame = (frame, length) => server.handle(this, frame, length);
  }

  send(frame: Uint8Array, length: number): void {
    if (this.#out.length === 0) {
      const sent = this.channel.replies.put(frame, 0, length);
      if (sent === length) return;
      this.#out.push(frame.slice(sent, length));
      this.#outPos = 0;
      Atomics.store(this.channel.words, STALLED, 1);
      return;
    }
    this.#out.push(frame.slice(0, length));
  }

  get stalled(): boolean {
    return this.#out.length > 0;
  }

  /**
   * Move queued replies into the ring; whatever does not fit waits for the client to read.
   * Returns whether anything moved.
   */
  flush(): boolean {
    const replies = this.channel.replies;
    let moved = false;
    while (this.#out.length > 0) {
      const frame = this.#out[0];
      const from = this.#outPos;
      this.#outPos = replies.put(frame, from);
      if (this.#outPos !== from) moved = true;
      if (this.#outPos < frame.length) {
        Atomics.store(this.channel.words, STALLED, 1);
        return moved;
      }
      this.#out.shift();
      this.#outPos = 0;
    }
    Atomics.store(this.channel.words, STALLED, 0);
    return moved;
  }

  /** Whether a request waits, or parked replies found room. */
  pending(): boolean {
    return this.channel.requests.waiting() || (this.stalled && this.flush());
  }

  /** Serve the requests waiting in the ring; returns how many. */
  read(): number {
    return this.#asm.feed(this.#take, this.#onFrame);
  }
}

const { payload, port } = enterChild<ServerPayload>();
const server = new ManagerServer(payload.uid, new Map(payload.types));
const control = controlOf(payload.area);
const peers: (ChannelPeer | undefined)[] = [];

let listening = false;

function drop(i: number): void {
  const p = peers[i];
  if (p === undefined) return;
  peers[i] = undefined;
  server.dropPeer(p);
}

function serveChannels(): number {
  let work = 0;
  const slots = Atomics.load(control, SLOTS);
  for (let i = 0; i < slots; i++) {
    const owner = ownerOf(control, i);
    let p = peers[i];
    if (p !== undefined && p.owner !== owner) {
      drop(i);
      p = undefined;
    }
    if (owner === 0) continue;
    if (p === undefined) {
      p = peers[i] = new ChannelPeer(owner, channelAt(payload.area, i), server);
      server.addPeer(p);
    }
    if (p.stalled) p.flush();
    try {
      work += p.read();
    } catch {
      // A malformed frame from a thread of this program is a bug there: stop serving it.
      drop(i);
    }
  }
  return work;
}

function sweep(): void {
  const slots = Atomics.load(control, SLOTS);
  for (let i = 0; i < slots; i++) {
    const owner = ownerOf(control, i);
    if (owner !== 0 && releaseIfDead(control, i)) drop(i);
  }
}

/** Whether any channel has work: a request, room for parked replies, or a new client. */
function anyPending(): boolean {
  const slots = Atomics.load(control, SLOTS);
  for (let i = 0; i < slots; i++) {
    const p = peers[i];
    if (p === undefined || p.owner !== ownerOf(control, i)) {
      if (ownerOf(control, i) !== 0) return true;
    } else if (p.pending()) return true;
  }
  return false;
}

// The server's spin does not shrink after misses, as a client's does: with two busy
// clients on two cores it loses its core often, and a server that sleeps makes every
// request wait for a futex wake; once both sides had shrunk their spins they woke each
// other for every call (the rate fell from ~700k to ~80k calls/s). It is one thread, and
// it spins only while clients are talking.

/** Spin for the next request; whether one came. */
function caughtBySpin(): boolean {
  const start = performance.now();
  for (let n = 1;; n++) {
    if (anyPending()) return true;
    if ((n & 15) === 0 && performance.now() - start >= SPIN_MS) return false;
  }
}

// Called with SLEEPING raised: a client that wrote before seeing the flag is found here.
function stayAwake(): boolean {
  return Atomics.load(control, STATE) === CLOSED || anyPending();
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function serve(): Promise<void> {
  let busySince = performance.now();
  let sweptAt = busySince;
  let servedAt = -Infinity;
  let served = false;
  let passes = 0;
  while (Atomics.load(control, STATE) !== CLOSED) {
    const work = serveChannels();
    if (work > 0) {
      served = true;
      // A clock read costs ~0.1 µs on Deno, about what serving a small request does.
      if ((++passes & 15) !== 0) continue;
    }
    const now = performance.now();
    if (served) {
      servedAt = now;
      served = false;
    }
    if (now - sweptAt > SWEEP_MS) {
      sweptAt = now;
      sweep();
    }
    if (work > 0) {
      if (now - busySince > BUSY_MS) {
        await yieldToLoop();
        busySince = performance.now();
      }
      continue;
    }
    // Spin only while clients are talking: an idle manager's timed wake-ups do not.
    if (now - servedAt < TALKING_MS && caughtBySpin()) continue;
    if (listening) {
      await asWaiterAsync(control, SLEEPING, () => {
        const seen = Atomics.load(control, DOORBELL);
        if (stayAwake()) return Promise.resolve(true);
        return waitSliceAsync(control, DOORBELL, seen, performance.now() + SLICE_MS);
      });
    } else {
      const ms = waitingOnLoop() > 0 ? WAIT_MS : IDLE_WAIT_MS;
      const slept = asWaiter(control, SLEEPING, () => {
        const seen = Atomics.load(control, DOORBELL);
        if (stayAwake()) return false;
        waitSlice(control, DOORBELL, seen, performance.now() + ms);
        return Atomics.load(control, DOORBELL) === seen;
      });
      if (slept) await yieldToLoop();
    }
    busySince = performance.now();
  }
}

async function main(): Promise<void> {
  let listener;
  try {
    listener = payload.tcp === null ? null : await serveTcp(server, payload.tcp);
  } catch (error) {
    port.post({ t: "error", error: errorToRecord(error) } satisfies ServerMessage);
    return endThread(1);
  }
  listening = listener !== null;
  Atomics.store(control, STATE, RUNNING);
  port.post({ t: "ready", port: listener?.port ?? null } satisfies ServerMessage);
  await serve();
  server.close();
  for (const p of peers) p?.flush();
  await listener?.close();
  endThread(0);
}

void main();

// Raw-limit worker: only runtime primitives (node:worker_threads, SharedArrayBuffer, Atomics),
// no library code. `workerData.mode` picks the role; see bench/raw.ts for the parent side.
import { parentPort, workerData } from "node:worker_threads";
import { finish, ready } from "./ctl.mjs";
import { fib, mapChunk, noop } from "./task.mjs";

// Request/response over postMessage: the floor for any pool that talks by messages.
function echo() {
  const fns = { noop, fib, mapChunk };
  parentPort.on("message", (m) => parentPort.postMessage({ id: m.id, r: fns[m.fn](m.x) }));
}

// One-way burst of small messages to the parent: the floor for a message-based pipe.
function stream({ n }) {
  parentPort.once("message", () => {
    for (let i = 0; i < n; i++) parentPort.postMessage(i);
    parentPort.postMessage(null);
  });
  // Ready once listening: "online" comes before this module has even loaded.
  parentPort.postMessage("ready");
}

// SPSC byte ring: [head, tail, go, ready, done] control words, then CAP bytes of 16-byte
// records holding a JSON-encoded number. This is the ceiling for a SAB queue.
const CAP = 1 << 20;

function ringProducer({ sab, n }) {
  const ctl = new Int32Array(sab, 0, 8);
  const buf = new Uint8Array(sab, 32, CAP);
  const enc = new TextEncoder();
  ready(ctl);
  let head = 0;
  for (let i = 0; i < n; i++) {
    const bytes = enc.encode(JSON.stringify(i));
    while (head - Atomics.load(ctl, 1) + 16 > CAP) Atomics.wait(ctl, 1, Atomics.load(ctl, 1), 1);
    const p = head % CAP;
    buf[p] = bytes.length;
    buf.set(bytes, p + 1);
    head += 16;
    Atomics.store(ctl, 0, head);
    if ((i & 255) === 0) Atomics.notify(ctl, 0);
  }
  Atomics.notify(ctl, 0);
  finish(ctl);
}

function ringConsumer({ sab, n }) {
  const ctl = new Int32Array(sab, 0, 8);
  const buf = new Uint8Array(sab, 32, CAP);
  const dec = new TextDecoder();
  ready(ctl);
  let tail = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    while (Atomics.load(ctl, 0) === tail) Atomics.wait(ctl, 0, tail, 1);
    const p = tail % CAP;
    sum += JSON.parse(dec.decode(buf.slice(p + 1, p + 1 + buf[p])));
    tail += 16;
    Atomics.store(ctl, 1, tail);
  }
  if (sum !== (n * (n - 1)) / 2) throw new Error(`Ring lost messages: sum ${sum}`);
  finish(ctl);
}

// One big message at a time through a shared slot: ctl[0] is 1 while the slot holds a
// message. The producer copies its payload in, the consumer copies it out (a queue must
// copy: the sender keeps its buffer), so each message costs two copies and one hand-off
// between two threads: the floor for a big message through a SAB queue.
function bigProducer({ sab, size, count }) {
  const ctl = new Int32Array(sab, 0, 8);
  const slot = new Uint8Array(sab, 32, size);
  const payload = new Uint8Array(size).fill(7);
  ready(ctl);
  for (let i = 0; i < count; i++) {
    while (Atomics.load(ctl, 0) !== 0) Atomics.wait(ctl, 0, 1);
    slot.set(payload);
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
  }
  finish(ctl);
}

function bigConsumer({ sab, size, count }) {
  const ctl = new Int32Array(sab, 0, 8);
  const slot = new Uint8Array(sab, 32, size);
  ready(ctl);
  for (let i = 0; i < count; i++) {
    while (Atomics.load(ctl, 0) !== 1) Atomics.wait(ctl, 0, 0);
    const got = slot.slice();
    if (got.length !== size || got[size - 1] !== 7) throw new Error("Big message lost bytes");
    Atomics.store(ctl, 0, 0);
    Atomics.notify(ctl, 0);
  }
  finish(ctl);
}

// Futex lock at ctl[6] (0 free, 1 held, 2 held with waiters), counter at ctl[7]: the
// floor for a locked shared counter.
function lockWord(ctl) {
  let c = Atomics.compareExchange(ctl, 6, 0, 1);
  for (let spin = 0; c !== 0 && spin < 100; spin++) c = Atomics.compareExchange(ctl, 6, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = Atomics.exchange(ctl, 6, 2);
  while (c !== 0) {
    Atomics.wait(ctl, 6, 2);
    c = Atomics.exchange(ctl, 6, 2);
  }
}

function unlockWord(ctl) {
  if (Atomics.sub(ctl, 6, 1) !== 1) {
    Atomics.store(ctl, 6, 0);
    Atomics.notify(ctl, 6, 1);
  }
}

function lockIncr({ sab, n }) {
  const ctl = new Int32Array(sab, 0, 8);
  ready(ctl);
  for (let i = 0; i < n; i++) {
    lockWord(ctl);
    ctl[7] = ctl[7] + 1;
    unlockWord(ctl);
  }
  finish(ctl);
}

// Reader-writer lock as one word at ctl[5]: the reader count, plus WRITER while a writer
// holds it. A reader takes it with one fetch-add (backing out if a writer is in), a writer
// with one compare-exchange from 0: the fewest atomic operations an RW lock can do.
const WRITER = -0x40000000;

function rwAcquire(ctl, write) {
  for (let spin = 0;; spin++) {
    if (write) {
      if (Atomics.compareExchange(ctl, 5, 0, WRITER) === 0) return;
    } else {
      if (Atomics.add(ctl, 5, 1) >= 0) return;
      Atomics.sub(ctl, 5, 1);
    }
    if (spin > 100) {
      const v = Atomics.load(ctl, 5);
      if (v !== 0) Atomics.wait(ctl, 5, v, 1);
    }
  }
}

function rwRelease(ctl, write) {
  // The writer subtracts WRITER rather than storing 0, so readers' in-flight back-outs stay counted.
  if (write) Atomics.sub(ctl, 5, WRITER);
  else Atomics.sub(ctl, 5, 1);
  Atomics.notify(ctl, 5);
}

function rwMix({ sab, n, writeEvery }) {
  const ctl = new Int32Array(sab, 0, 8);
  ready(ctl);
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const write = i % writeEvery === 0;
    rwAcquire(ctl, write);
    if (write) ctl[7] = ctl[7] + 1;
    else seen += ctl[7];
    rwRelease(ctl, write);
  }
  finish(ctl);
  return seen;
}

// Round trips through one server thread over shared memory, the way a manager's thread
// transport works with no encoding, dispatch or object at all: each client writes a
// sequence number in its own 64-byte slot and rings a doorbell; the server copies it to
// the slot's reply word. Both sides spin before sleeping on a futex, and notify only a
// side that said it sleeps. A spin pays only while the other side has a core, so its
// budget adapts: full after a spin that caught the reply, halved after one that did not,
// down to none, with a full probe every 32 waits. Words after the control block:
// [doorbell, server sleeping, stop, ...], then per client at 16 * (k + 1): [request,
// reply, sleeping].
const PING_SPIN_MS = 0.1;

function spinner() {
  let budget = PING_SPIN_MS;
  let skipped = 0;
  return function spinUntil(words, at, value, sleepFlag) {
    let spin = budget;
    if (spin === 0 && ++skipped >= 32) {
      skipped = 0;
      spin = PING_SPIN_MS;
    }
    const start = performance.now();
    for (let n = 1;; n++) {
      if (Atomics.load(words, at) !== value) {
        budget = PING_SPIN_MS;
        return;
      }
      if ((n & 63) === 0 && performance.now() - start >= spin) break;
    }
    budget = budget > PING_SPIN_MS / 8 ? budget / 2 : 0;
    while (Atomics.load(words, at) === value) {
      Atomics.store(words, sleepFlag, 1);
      Atomics.wait(words, at, value, 20);
      Atomics.store(words, sleepFlag, 0);
    }
  };
}

function pingServer({ sab, clients }) {
  const spinUntil = spinner();
  const words = new Int32Array(sab, 32);
  const seen = new Int32Array(clients);
  while (Atomics.load(words, 2) === 0) {
    const bell = Atomics.load(words, 0);
    let work = 0;
    for (let k = 0; k < clients; k++) {
      const at = 16 * (k + 1);
      const req = Atomics.load(words, at);
      if (req === seen[k]) continue;
      seen[k] = req;
      work++;
      Atomics.store(words, at + 1, req);
      if (Atomics.load(words, at + 2) !== 0) Atomics.notify(words, at + 1);
    }
    if (work === 0) spinUntil(words, 0, bell, 1);
  }
}

function pingClient({ sab, slot, n }) {
  const spinUntil = spinner();
  const ctl = new Int32Array(sab, 0, 8);
  const words = new Int32Array(sab, 32);
  const at = 16 * (slot + 1);
  ready(ctl);
  for (let i = 1; i <= n; i++) {
    Atomics.store(words, at, i);
    Atomics.add(words, 0, 1);
    if (Atomics.load(words, 1) !== 0) Atomics.notify(words, 0);
    spinUntil(words, at + 1, i - 1, at + 2);
  }
  finish(ctl);
}

// Dispatch last: the roles above use module-level constants that must be initialized first.
const roles = {
  echo,
  stream,
  ringProducer,
  ringConsumer,
  bigProducer,
  bigConsumer,
  lockIncr,
  rwMix,
  pingServer,
  pingClient,
};
roles[workerData.mode](workerData);

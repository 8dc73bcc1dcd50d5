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

// Dispatch last: the roles above use module-level constants that must be initialized first.
const roles = { echo, stream, ringProducer, ringConsumer, bigProducer, bigConsumer, lockIncr, rwMix };
roles[workerData.mode](workerData);

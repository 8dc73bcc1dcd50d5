import { checkTimeout, deadlineOf, throwIfAborted, timeLeft } from "../_internal/deadline.ts";
import { requireBlocking } from "../_internal/futex.ts";
import { rings } from "./_ops.ts";
import { type Poller, pollers } from "./_pollers.ts";
import { DONE, ENDED, getOp, type Ring, WAIT } from "./_ring.ts";

/** Options of {@linkcode wait}. */
export interface ConnectionWaitOptions {
  /** Longest wait in milliseconds; `undefined` waits until one is ready. @default {undefined} */
  timeout?: number;
  /** Abort the wait; the promise rejects with `signal.reason`. @default {undefined} */
  signal?: AbortSignal;
}

/** How long `waitSync` sleeps on one object before looking at the others. */
const ROUND_MS = 1;

function ringsOf<T extends object>(objects: Iterable<T>, polled?: [T, Poller][]): [T, Ring][] {
  const out: [T, Ring][] = [];
  for (const o of objects) {
    const ring = rings.get(o);
    const poller = pollers.get(o);
    if (ring !== undefined) out.push([o, ring]);
    else if (poller !== undefined && polled !== undefined) polled.push([o, poller]);
    else if (poller !== undefined) {
      throw new TypeError(
        `Cannot wait on ${String(o)} in waitSync(): a thread cannot block on a socket, use await wait() instead`,
      );
    } else throw new TypeError(`Cannot wait on ${String(o)}: expected a readable Connection or a queue`);
  }
  return out;
}

/** Whether a get would not wait: a message, or the end, is there. */
function ready(ring: Ring): boolean {
  const op = getOp(true);
  op.peek = true;
  const r = ring.getStep(op);
  return r === DONE || r === ENDED;
}

/**
 * Wait until some of `objects` can be read without waiting: a message is there, or the
 * end (a closed pipe or queue), like Python's `multiprocessing.connection.wait`.
 *
 * @typeParam T the objects' type
 * @param objects readable {@linkcode Connection}s and queues, and process-context connections
 * @param options `timeout` (ms) and `signal`
 * @returns those ready, in the order given; empty when the timeout passed first
 * @throws {TypeError} when an object is not a readable connection or a queue
 * @throws {RangeError} when the timeout is negative or NaN
 * @example Usage
 * ```ts
 * import { Pipe, Queue, wait } from "@mproc/multiprocessing/ipc";
 * import assert from "node:assert/strict";
 * const [a, b] = Pipe();
 * const q = new Queue();
 * assert.deepEqual(await wait([a, q], { timeout: 0 }), []);
 * await b.send("hi");
 * assert.deepEqual(await wait([a, q]), [a]);
 * ```
 */
export async function wait<T extends object>(objects: Iterable<T>, options: ConnectionWaitOptions = {}): Promise<T[]> {
  const { timeout, signal } = options;
  checkTimeout(timeout, "wait for connections");
  throwIfAborted(signal);
  const list = [...objects];
  const polled: [T, Poller][] = [];
  const all = ringsOf(list, polled);
  const deadline = deadlineOf(timeout);
  if (polled.length > 0) return await waitMixed(list, all, polled, deadline, signal);
  for (;;) {
    const now = all.filter(([, ring]) => ready(ring)).map(([o]) => o);
    if (now.length > 0 || timeLeft(deadline) === 0 || all.length === 0) return now;
    // Sleep on every ring at once; the first to wake cancels the others.
    const stop = new AbortController();
    const either = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
    const sleeps = all.map(([, ring]) => {
      const op = getOp(false);
      op.peek = true;
      return ring.getStep(op) === WAIT ? ring.sleepAsync(op, deadline, either).catch(() => false) : DONE_NOW;
    });
    await Promise.race(sleeps);
    stop.abort();
    await Promise.all(sleeps);
    throwIfAborted(signal);
  }
}

const DONE_NOW: Promise<boolean> = Promise.resolve(true);

/** Whether `ring` becomes ready before `deadline` or the signal. */
async function ringReady(ring: Ring, deadline: number, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    if (ready(ring)) return true;
    if (timeLeft(deadline) === 0 || signal.aborted) return false;
    const op = getOp(false);
    op.peek = true;
    if (ring.getStep(op) === WAIT) await ring.sleepAsync(op, deadline, signal).catch(() => false);
  }
}

// Some objects are process-context connections, whose state only their pipe's process
// knows: ask each (and sleep on each ring) at once; the first to be ready stops the rest.
async function waitMixed<T extends object>(
  order: T[],
  all: [T, Ring][],
  polled: [T, Poller][],
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<T[]> {
  const stop = new AbortController();
  const either = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
  const found = new Set<T>();
  const mark = (o: T) => (ok: boolean) => {
    if (!ok) return;
    found.add(o);
    stop.abort();
  };
  await Promise.all([
    ...all.map(([o, ring]) => ringReady(ring, deadline, either).then(mark(o))),
    ...polled.map(([o, poll]) => poll(timeLeft(deadline), either).then(mark(o), () => {})),
  ]);
  throwIfAborted(signal);
  for (const [o, ring] of all) if (ready(ring)) found.add(o);
  return order.filter((o) => found.has(o));
}

/**
 * The same, blocking this thread while it waits. It sleeps on each object in turn for
 * up to 1 ms, so a message may wait that long to be seen.
 *
 * @throws {TypeError} when an object is not readable, or this thread may not block
 * @throws {RangeError} when the timeout is negative or NaN
 */
export function waitSync<T extends object>(
  objects: Iterable<T>,
  options: Omit<ConnectionWaitOptions, "signal"> = {},
): T[] {
  const { timeout } = options;
  checkTimeout(timeout, "wait for connections");
  const all = ringsOf(objects);
  const deadline = deadlineOf(timeout);
  for (let turn = 0;; turn++) {
    const now = all.filter(([, ring]) => ready(ring)).map(([o]) => o);
    if (now.length > 0 || timeLeft(deadline) === 0 || all.length === 0) return now;
    requireBlocking("waitSync()", "await wait()");
    const [, ring] = all[turn % all.length];
    const op = getOp(false);
    op.peek = true;
    if (ring.getStep(op) === WAIT) ring.sleepSync(op, Math.min(deadline, deadlineOf(ROUND_MS)));
  }
}

/**
 * {@linkcode wait} under a name that does not clash with the futures' `wait` of the
 * package root: `import { connectionWait } from "@mproc/multiprocessing"`.
 *
 * @example Usage
 * ```ts
 * import { connectionWait, Pipe } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const [a, b] = Pipe();
 * b.sendSync(1);
 * assert.deepEqual(await connectionWait([a], { timeout: 100 }), [a]);
 * ```
 */
export const connectionWait: typeof wait = wait;

/** {@linkcode waitSync} under a name that does not clash with the package root's. */
export const connectionWaitSync: typeof waitSync = waitSync;

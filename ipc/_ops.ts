// What queues and connections share on top of the ring: option checks, the fast first
// step before any promise machinery, and turning ring results into errors.
import { checkTimeout, deadlineOf } from "../_internal/deadline.ts";
import { requireBlocking } from "../_internal/futex.ts";
import { bytesToMsg, toMsg } from "./_codec.ts";
import { DONE, type GetOp, getOp, putOp, type Ring, TIMEOUT, WAIT } from "./_ring.ts";

/** Options of a put or a get, as Python's `block` and `timeout`, plus a signal. */
export interface BlockingOptions {
  /** When false, do not wait: throw `FullError` / `EmptyError` at once (the timeout is ignored). @default {true} */
  block?: boolean;
  /** Longest wait in milliseconds; `undefined` waits as long as it takes. @default {undefined} */
  timeout?: number;
  /** Abort the wait; the promise rejects with `signal.reason`. Checked once by the `Sync` forms. @default {undefined} */
  signal?: AbortSignal;
}

/**
 * The ring each queue or connection reads from, for `wait()`, JoinableQueue and tests;
 * kept here rather than on the objects so it stays out of their public surface.
 */
export const rings: WeakMap<object, Ring> = new WeakMap();

/** A resolved promise shared by every put that finished at once. */
export const RESOLVED: Promise<void> = Promise.resolve();

/** How long a non-blocking call may wait for the lock of a ring in use by another thread. */
const LOCK_GRACE_MS = 2;

/** Turn options into `{ deadline, nowait }`; throws for a bad timeout. */
export function parse(options: BlockingOptions | undefined, what: string): { deadline: number; nowait: boolean } {
  if (options === undefined) return { deadline: Infinity, nowait: false };
  const { block = true, timeout } = options;
  // As in Python, a non-blocking call ignores its timeout.
  if (!block) return { deadline: deadlineOf(LOCK_GRACE_MS), nowait: true };
  checkTimeout(timeout, what);
  return { deadline: deadlineOf(timeout), nowait: false };
}

/** Maps a ring result other than DONE to the error to throw. */
export type Failure = (result: number) => Error;

/** Put `item` without blocking the thread. */
export function putAsync(
  ring: Ring,
  item: unknown,
  options: BlockingOptions | undefined,
  what: string,
  fail: Failure,
  raw = false,
): Promise<void> {
  try {
    const signal = options?.signal;
    const { deadline, nowait } = parse(options, what);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const op = putOp(raw ? bytesToMsg(item as Uint8Array) : toMsg(item, "the item"), nowait);
    const r = ring.putStep(op);
    if (r === DONE) return RESOLVED;
    if (r !== WAIT) return Promise.reject(fail(r));
    return ring.putAsync(op, deadline, signal).then((r) => {
      if (r !== DONE) throw fail(r);
    });
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Put `item`, blocking this thread while it waits. */
export function putSync(
  ring: Ring,
  item: unknown,
  options: BlockingOptions | undefined,
  what: string,
  syncForm: string,
  asyncForm: string,
  fail: Failure,
  raw = false,
): void {
  const { deadline, nowait } = parse(options, what);
  if (options?.signal?.aborted) throw options.signal.reason;
  const op = putOp(raw ? bytesToMsg(item as Uint8Array) : toMsg(item, "the item"), nowait);
  let r = ring.putStep(op);
  if (r === WAIT) {
    requireBlocking(syncForm, asyncForm);
    r = ring.putSync(op, deadline);
  }
  if (r !== DONE) throw fail(r);
}

/** Get the next item without blocking the thread; `check` may leave an unwanted message in place. */
export function getAsync<T>(
  ring: Ring,
  options: BlockingOptions | undefined,
  what: string,
  fail: Failure,
  check?: GetOp["check"],
): Promise<T> {
  try {
    const signal = options?.signal;
    const { deadline, nowait } = parse(options, what);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const op = getOp(nowait);
    op.check = check;
    const r = ring.getStep(op);
    if (r === DONE) return Promise.resolve(op.value as T);
    if (r !== WAIT) return Promise.reject(fail(r));
    return ring.getAsync(op, deadline, signal).then((r) => {
      if (r !== DONE) throw fail(r);
      return op.value as T;
    });
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Get the next item, blocking this thread while it waits. */
export function getSync<T>(
  ring: Ring,
  options: BlockingOptions | undefined,
  what: string,
  syncForm: string,
  asyncForm: string,
  fail: Failure,
  check?: GetOp["check"],
): T {
  const { deadline, nowait } = parse(options, what);
  if (options?.signal?.aborted) throw options.signal.reason;
  const op = getOp(nowait);
  op.check = check;
  let r = ring.getStep(op);
  if (r === WAIT) {
    requireBlocking(syncForm, asyncForm);
    r = ring.getSync(op, deadline);
  }
  if (r !== DONE) throw fail(r);
  return op.value as T;
}

/** Whether a message or the end waits to be read, after waiting up to `timeout` ms. */
export async function pollAsync(ring: Ring, timeout: number, signal?: AbortSignal): Promise<boolean> {
  const op = getOp(false);
  op.peek = true;
  const r = await ring.getAsync(op, deadlineOf(timeout), signal);
  return r !== TIMEOUT;
}

/** The same, blocking. */
export function pollSync(ring: Ring, timeout: number, syncForm: string, asyncForm: string): boolean {
  const op = getOp(false);
  op.peek = true;
  let r = ring.getStep(op);
  if (r === WAIT) {
    if (timeout === 0) return false;
    requireBlocking(syncForm, asyncForm);
    r = ring.getSync(op, deadlineOf(timeout));
  }
  return r !== TIMEOUT;
}

/** Read every item until the end, for `for await`. */
export async function* iterate<T>(ring: Ring, ended: number, fail: Failure): AsyncGenerator<T> {
  for (;;) {
    const op = getOp(false);
    let r = ring.getStep(op);
    if (r === WAIT) r = await ring.getAsync(op, Infinity, undefined);
    if (r === ended) return;
    if (r !== DONE) throw fail(r);
    yield op.value as T;
  }
}

// The submit path Pool, ProcessPoolExecutor and imap share, as CPython's _map_async and
// _get_tasks serve Pool.map, imap and starmap: the same checks in the same order (the task,
// then the options, then the input), and one rule for turning input into jobs (chunksize 1
// sends each item as a call, anything larger sends chunks). Every item is encoded once,
// and a map's input is encoded whole before its first job is queued, so a bad item fails
// the call before any of it runs.
import { checkTimeout } from "../_internal/deadline.ts";
import type { Encoded } from "../_internal/shareable.ts";
import { BrokenProcessPoolError, InvalidStateError } from "../errors.ts";
import { isTaskRef, type TaskRef } from "../task.ts";
import { checkChunksize } from "./_chunk.ts";
import { checkStarItem, encodeChunk, encodeMapCall } from "./_payload.ts";
import { CALL, MAP, type Mode, STARMAP } from "./_protocol.ts";
import type { Scheduler } from "./_scheduler.ts";

/** The input of a map-style call. */
export type MapInput = Iterable<unknown> | AsyncIterable<unknown>;

/**
 * Refuse a submission: a bad task reference, a closed or a broken pool.
 *
 * @param closed why a closed owner refuses: `"the pool is closed"`
 * @throws {TypeError} when `fn` is not a task reference
 * @throws {InvalidStateError} when the owner is closed
 * @throws {BrokenProcessPoolError} when the owner is broken
 */
export function checkSubmit(scheduler: Scheduler, fn: unknown, closed: string): asserts fn is TaskRef {
  if (!isTaskRef(fn)) {
    throw new TypeError(`Cannot submit a task: expected a task reference (see taskModule), got ${String(fn)}`);
  }
  if (scheduler.closed) throw new InvalidStateError(`Cannot submit task "${fn.name}": ${closed}`);
  const broken = scheduler.broken;
  if (broken !== null) {
    throw new BrokenProcessPoolError(`Cannot submit task "${fn.name}": ${broken.message}`, { cause: broken });
  }
}

/** What a map-style call is doing, for messages: `run map of task "fib"`. */
export function mapWhat(method: string, fn: unknown): string {
  return `run ${method} of task "${(fn as TaskRef | undefined)?.name}"`;
}

/**
 * Check the options of a map-style call, before any input is read.
 *
 * @throws {RangeError} when the timeout or the chunksize is invalid
 */
export function checkMapOptions(options: { timeout?: number; chunksize?: number }, what: string): void {
  checkTimeout(options.timeout, what);
  checkChunksize(options.chunksize, what);
}

function notIterable(input: unknown, what: string): TypeError {
  return new TypeError(`Cannot ${what}: the input must be an iterable or async iterable, got ${String(input)}`);
}

function isSyncIterable(input: unknown): input is Iterable<unknown> {
  return input !== null && typeof (input as Iterable<unknown>)?.[Symbol.iterator] === "function";
}

function isAsyncIterable(input: unknown): input is AsyncIterable<unknown> {
  return input !== null && typeof (input as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === "function";
}

/**
 * Read the whole input: at once for a sync iterable (so its jobs are queued in the call,
 * as Python's are), else as a promise.
 *
 * @throws {TypeError} when the input is not iterable
 */
export function readInput(input: MapInput, what: string): unknown[] | Promise<unknown[]> {
  if (Array.isArray(input)) return input;
  // An async iterable that is also sync iterable (a stream) is read the async way.
  if (isAsyncIterable(input)) return readAsync(input);
  if (isSyncIterable(input)) return Array.from(input);
  throw notIterable(input, what);
}

async function readAsync(input: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of input) out.push(item);
  return out;
}

/** An input opened for reading one item at a time. */
export type OpenInput =
  | { sync: true; iterator: Iterator<unknown> }
  | { sync: false; iterator: AsyncIterator<unknown> };

/**
 * Open the input of an imap.
 *
 * @throws {TypeError} when the input is not iterable
 */
export function openInput(input: MapInput, what: string): OpenInput {
  if (isAsyncIterable(input)) return { sync: false, iterator: input[Symbol.asyncIterator]() };
  if (isSyncIterable(input)) return { sync: true, iterator: input[Symbol.iterator]() };
  throw notIterable(input, what);
}

/** How the jobs of a map run: a call per item with chunksize 1, else chunks. */
export function mapMode(chunksize: number, spread: boolean): Mode {
  return chunksize === 1 ? CALL : spread ? STARMAP : MAP;
}

/**
 * Encode one job of a map: `items` (input numbers `start`…) as a call when `chunksize` is
 * 1, else as a chunk.
 *
 * @throws {TypeError} when a starmap item is not an array, or an item cannot be sent
 */
export function encodeMapJob(
  items: readonly unknown[],
  start: number,
  chunksize: number,
  spread: boolean,
  what: string,
): Encoded {
  if (spread) { for (let j = 0; j < items.length; j++) checkStarItem(items[j], start + j, what); }
  if (chunksize !== 1) return encodeChunk(items, start, "iterable");
  return spread
    ? encodeChunk(items[0] as unknown[], 0, `iterable[${start}]`)
    : encodeMapCall(items[0], `iterable[${start}]`);
}

/**
 * Encode a whole map input as jobs of `chunksize` items; job `k` starts at input number
 * `k * chunksize`.
 *
 * @throws {TypeError} when a starmap item is not an array, or an item cannot be sent
 */
export function encodeMapJobs(items: readonly unknown[], chunksize: number, spread: boolean, what: string): Encoded[] {
  const out: Encoded[] = new Array(Math.ceil(items.length / chunksize));
  if (chunksize === 1 && !spread) {
    for (let i = 0; i < items.length; i++) out[i] = encodeMapCall(items[i], `iterable[${i}]`);
    return out;
  }
  for (let k = 0, start = 0; start < items.length; k++, start += chunksize) {
    const chunk = chunksize === 1 ? [items[start]] : items.slice(start, start + chunksize);
    out[k] = encodeMapJob(chunk, start, chunksize, spread, what);
  }
  return out;
}

// The input of a map-style call as every executor reads it (Pool, ProcessPoolExecutor, imap
// and DistributedExecutor): the option checks, the iterable checks and the reading, so all
// of them refuse bad input with the same errors in the same order.
import type { TaskRef } from "../task.ts";
import { checkTimeout } from "./deadline.ts";

/** The input of a map-style call. */
export type MapInput = Iterable<unknown> | AsyncIterable<unknown>;

/**
 * Check a chunksize given by the caller.
 *
 * @throws {RangeError} when it is not a positive integer
 */
export function checkChunksize(chunksize: unknown, what: string): void {
  if (chunksize === undefined) return;
  if (typeof chunksize !== "number" || !Number.isInteger(chunksize) || chunksize < 1) {
    throw new RangeError(`Cannot ${what}: the chunksize must be a positive integer, got ${String(chunksize)}`);
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

/**
 * Throw unless `item`, input number `index` of a starmap, is an argument list.
 *
 * @throws {TypeError} when it is not an array
 */
export function checkStarItem(item: unknown, index: number, what: string): void {
  if (!Array.isArray(item)) {
    throw new TypeError(`Cannot ${what}: iterable[${index}] must be an array of arguments, got ${String(item)}`);
  }
}

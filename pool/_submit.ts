// The submit path Pool, ProcessPoolExecutor and imap share, as CPython's _map_async and
// _get_tasks serve Pool.map, imap and starmap: the same checks in the same order (the task,
// then the options, then the input), and one rule for turning input into jobs (chunksize 1
// sends each item as a call, anything larger sends chunks). Every item is encoded once,
// and a map's input is encoded whole before its first job is queued, so a bad item fails
// the call before any of it runs.
import { checkStarItem } from "../_internal/map_input.ts";
import type { Encoded } from "../_internal/shareable.ts";
import { BrokenProcessPoolError, InvalidStateError } from "../errors.ts";
import { isTaskRef, type TaskRef } from "../task.ts";
import { packNumbers } from "./_pack.ts";
import { encodeChunk, encodeMapArg } from "./_payload.ts";
import { CALL, MAP, type Mode, ONE, STARMAP } from "./_protocol.ts";
import type { Scheduler } from "./_scheduler.ts";

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

/** How the jobs of a map run: a call per item with chunksize 1, else chunks. */
export function mapMode(chunksize: number, spread: boolean): Mode {
  if (chunksize === 1) return spread ? CALL : ONE;
  return spread ? STARMAP : MAP;
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
  if (chunksize !== 1) {
    const packed = spread ? undefined : packNumbers(items, 0, items.length);
    return packed === undefined ? encodeChunk(items, start, "iterable") : { value: packed };
  }
  return spread
    ? encodeChunk(items[0] as unknown[], 0, `iterable[${start}]`)
    : encodeMapArg(items[0], start);
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
    for (let i = 0; i < items.length; i++) out[i] = encodeMapArg(items[i], i);
    return out;
  }
  for (let k = 0, start = 0; start < items.length; k++, start += chunksize) {
    const packed = spread ? undefined : packNumbers(items, start, Math.min(start + chunksize, items.length));
    if (packed !== undefined) {
      out[k] = { value: packed };
      continue;
    }
    const chunk = chunksize === 1 ? [items[start]] : items.slice(start, start + chunksize);
    out[k] = encodeMapJob(chunk, start, chunksize, spread, what);
  }
  return out;
}

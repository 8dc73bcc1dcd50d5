// What Queue, JoinableQueue and SimpleQueue share: option checks, the ring they start
// with, the errors for each ring result, and the hand-over of a revived ring.
import { EmptyError, FullError, InvalidStateError } from "../errors.ts";
import type { Failure } from "./_ops.ts";
import {
  CEILING_REACHED,
  CONTROL_BYTES,
  DEAF,
  EMPTY,
  ENDED,
  MAX_BYTES,
  MIN_BYTES,
  Ring,
  type RingState,
  TIMEOUT,
} from "./_ring.ts";

/** Bytes of ring an unbounded queue starts with. */
const START_BYTES = 4096;

/** Shared memory a new queue takes with default options: control words and first ring. */
export const EMPTY_BYTES: number = CONTROL_BYTES + START_BYTES;

function checkOptions(maxsize: number, bytes: number | undefined, what: string): void {
  if (typeof maxsize !== "number" || !Number.isInteger(maxsize) || maxsize < 0 || maxsize > 0x7fffffff) {
    throw new RangeError(`Cannot create ${what}: maxsize must be a non-negative integer, got ${String(maxsize)}`);
  }
  if (
    bytes !== undefined
    && (typeof bytes !== "number" || !Number.isInteger(bytes) || bytes < 1 || bytes > MAX_BYTES)
  ) {
    throw new RangeError(
      `Cannot create ${what}: bytes must be an integer from 1 to ${MAX_BYTES} (1 GiB), got ${String(bytes)}`,
    );
  }
}

/** A new ring for a queue; `bytes` fixes its size, otherwise it grows. */
export function queueRing(options: { maxsize?: number; bytes?: number }, what: string, joinable: boolean): Ring {
  const { maxsize = 0, bytes } = options;
  checkOptions(maxsize, bytes, what);
  if (bytes !== undefined) return Ring.create(Math.max(bytes, MIN_BYTES), 0, maxsize, joinable);
  return Ring.create(START_BYTES, MAX_BYTES, maxsize, joinable);
}

/** The errors a queue's put and get report, by ring result. */
export function queueFailures(ring: Ring, what: string): {
  put: (item: unknown, timeout: number | undefined) => Failure;
  get: (timeout: number | undefined) => Failure;
} {
  return {
    put: (item, timeout) => (r) => {
      switch (r) {
        case DEAF:
          return new InvalidStateError(`Cannot put item on ${what}: it is closed`);
        case CEILING_REACHED:
          return new FullError(
            `Cannot put item on ${what}: its ring reached its ceiling of ${MAX_BYTES} bytes (1 GiB) with ${ring.items()} items waiting; take items out, or give the queue a maxsize so puts wait`,
            item,
          );
        case TIMEOUT:
          return new FullError(`Cannot put item on ${what}: it stayed full for ${timeout} ms`, item);
        default:
          return new FullError(`Cannot put item on ${what}: it is full`, item);
      }
    },
    get: (timeout) => (r) => {
      switch (r) {
        case ENDED:
          return new InvalidStateError(`Cannot get item from ${what}: it is closed and empty`);
        case TIMEOUT:
          return new EmptyError(`Cannot get item from ${what}: it stayed empty for ${timeout} ms`);
        case EMPTY:
        default:
          return new EmptyError(`Cannot get item from ${what}: it is empty`);
      }
    },
  };
}

// Set only while a shared state is being revived, or a JoinableQueue is built, so the
// public constructors keep their plain signatures.
let adopted: RingState | undefined;
let joinable = false;

/** Build the next Queue over `state` (revival) or as a JoinableQueue. */
export function adopt(state: RingState | undefined, isJoinable: boolean): void {
  adopted = state;
  joinable = isJoinable;
}

/** What the constructor being run should build: a revived ring, and whether it is joinable. */
export function takeAdopted(): { state: RingState | undefined; joinable: boolean } {
  const out = { state: adopted, joinable };
  adopted = undefined;
  joinable = false;
  return out;
}

// The values of a map's futures, in input order, as the executors' map iterators yield
// them: each within what is left of the call's timeout, a chunk's values one by one, and
// the futures not yet reached cancelled when the caller leaves the loop early.
import { TimeoutError } from "../errors.ts";
import { deadlineOf, timeLeft } from "./deadline.ts";

/** What the loop needs of a future: its value within a timeout, and a way to drop it. */
export interface InOrderFuture {
  result(timeout?: number): Promise<unknown>;
  cancel(): boolean;
}

/**
 * Yield the values of `futures` (a promise of them, so the input may still be read) in
 * order; each future holds one value, or an array of `chunksize` values.
 *
 * @param timeout milliseconds from this call for every value
 * @param what the call, for messages: `run map of task "fib"`
 */
export function valuesInOrder(
  futures: Promise<InOrderFuture[]>,
  chunksize: number,
  timeout: number | undefined,
  what: string,
): AsyncGenerator<unknown, void, undefined> {
  // The clock starts at the call, not at the first next().
  return inOrder(futures, chunksize, timeout, deadlineOf(timeout), what);
}

async function* inOrder(
  futures: Promise<InOrderFuture[]>,
  chunksize: number,
  timeout: number | undefined,
  deadline: number,
  what: string,
): AsyncGenerator<unknown, void, undefined> {
  const all = await futures;
  let i = 0;
  try {
    for (; i < all.length; i++) {
      let value: unknown;
      try {
        value = await all[i].result(timeout === undefined ? undefined : timeLeft(deadline));
      } catch (error) {
        if (error instanceof TimeoutError) {
          throw new TimeoutError(`Cannot ${what}: result ${i} was not ready within ${timeout} ms`);
        }
        throw error;
      }
      if (chunksize === 1) yield value;
      else yield* value as unknown[];
    }
  } finally {
    for (let j = i + 1; j < all.length; j++) all[j].cancel();
  }
}

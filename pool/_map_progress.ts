// The `{ done, total }` count behind a map-like call's onProgress, and the reports of its
// tasks, each named by its input index. A callback that throws is a bug in the program:
// it surfaces as an uncaught error, and never disturbs the scheduler that called it.
import type { JobHooks } from "./_job.ts";
import type { MapProgress } from "./progress.ts";

/** Call a user's progress callback; what it throws is thrown again outside the pool's code. */
export function callProgress<T>(onProgress: (value: T) => void, value: T): void {
  try {
    onProgress(value);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** One map-like call's progress. */
export class MapProgressCount {
  readonly #onProgress: (progress: MapProgress) => void;
  #done = 0;
  #total: number | undefined;

  constructor(onProgress: (progress: MapProgress) => void, total: number | undefined) {
    this.#onProgress = onProgress;
    this.#total = total;
  }

  /** `items` more results arrived. */
  add(items: number): void {
    this.#done += items;
    callProgress(this.#onProgress, { done: this.#done, total: this.#total });
  }

  /** The input holds `total` items: known before any result arrives, so nothing to say yet. */
  expect(total: number): void {
    this.#total = total;
  }

  /** The input ended after `total` items: say so, as the count may already be complete. */
  setTotal(total: number): void {
    this.#total = total;
    callProgress(this.#onProgress, { done: this.#done, total });
  }

  /** Hooks for a job of the call: its tasks' reports, each with the item's input index. */
  hooks(): JobHooks {
    return {
      onProgress: (value, index) =>
        callProgress(this.#onProgress, { done: this.#done, total: this.#total, index, value }),
    };
  }
}

/** `MapProgressCount` for an `onProgress` option, or `undefined` without one. */
export function mapProgress(
  onProgress: ((progress: MapProgress) => void) | undefined,
  total: number | undefined,
  what: string,
): MapProgressCount | undefined {
  if (onProgress === undefined) return undefined;
  if (typeof onProgress !== "function") {
    throw new TypeError(`Cannot ${what}: onProgress must be a function, got ${String(onProgress)}`);
  }
  return new MapProgressCount(onProgress, total);
}

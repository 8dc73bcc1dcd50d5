// The iterator behind Pool.stream and ProcessPoolExecutor.stream: one stream job, whose
// worker sends each yield of the task's generator as it comes. Back-pressure is a credit:
// the worker may have sent at most `highWaterMark` yields more than the consumer has
// taken, and the consumer renews the credit once it has taken half of that, so a slow
// consumer holds the generator at a yield with at most `highWaterMark` values waiting
// here. Leaving the loop early ends the generator (its `return`) and frees the worker.
import type { CallSignal } from "../_internal/call_signal.ts";
import { CancelledError } from "../errors.ts";
import type { TaskRef } from "../task.ts";
import type { Job } from "./_job.ts";
import { callProgress } from "./_map_progress.ts";
import { encodeArgs } from "./_payload.ts";
import { poolCallSignal } from "./_pool_call.ts";
import { STREAM } from "./_protocol.ts";
import type { Scheduler } from "./_scheduler.ts";
import type { StreamOptions } from "./pool.ts";

/** Yields a stream's worker may send ahead of its consumer when the call names no limit. */
export const DEFAULT_HIGH_WATER_MARK = 16;

/**
 * Start stream job `fn(...args)` and return its yields as an async iterator.
 *
 * @throws {TypeError} when `args` is not an array or cannot be sent, or `onProgress` is not a function
 * @throws {RangeError} when `highWaterMark` is not a positive integer, or the timeout is invalid
 */
export function openStream<T>(
  scheduler: Scheduler,
  fn: TaskRef,
  args: readonly unknown[],
  options: StreamOptions,
): AsyncIterableIterator<T> & AsyncDisposable {
  const what = `stream task "${fn.name}"`;
  const { highWaterMark = DEFAULT_HIGH_WATER_MARK, onProgress } = options;
  if (!Array.isArray(args)) throw new TypeError(`Cannot ${what}: args must be an array, got ${String(args)}`);
  if (!Number.isInteger(highWaterMark) || highWaterMark < 1) {
    throw new RangeError(`Cannot ${what}: highWaterMark must be a positive integer, got ${String(highWaterMark)}`);
  }
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new TypeError(`Cannot ${what}: onProgress must be a function, got ${String(onProgress)}`);
  }
  scheduler.checkSendable(args, "args");
  const encoded = encodeArgs(args, "args");
  // The first credit travels as a last argument, after every shared-object path.
  const payload = { ...encoded, value: [...(encoded.value as unknown[]), highWaterMark] };
  const call = poolCallSignal(options, what);
  return new TaskStream<T>(scheduler, fn, payload, highWaterMark, call, onProgress, what);
}

class TaskStream<T> implements AsyncIterableIterator<T>, AsyncDisposable {
  readonly #scheduler: Scheduler;
  readonly #job: Job;
  readonly #highWaterMark: number;
  readonly #call: CallSignal | undefined;
  readonly #what: string;
  #buffer: unknown[] = [];
  #at = 0;
  /** Yields handed to the consumer. */
  #taken = 0;
  /** The last credit given: yields the worker may have sent in all. */
  #credit: number;
  #outcome: { failed: boolean; value: unknown } | null = null;
  /** The consumer has seen the end, an error, or left. */
  #finished = false;
  #waiters: (() => void)[] = [];

  constructor(
    scheduler: Scheduler,
    fn: TaskRef,
    payload: { value: unknown },
    highWaterMark: number,
    call: CallSignal | undefined,
    onProgress: ((value: unknown) => void) | undefined,
    what: string,
  ) {
    this.#scheduler = scheduler;
    this.#highWaterMark = highWaterMark;
    this.#credit = highWaterMark;
    this.#call = call;
    this.#what = what;
    this.#job = scheduler.submit(
      fn,
      STREAM,
      payload,
      (failed, value) => {
        this.#outcome = { failed, value };
        call?.dispose();
        this.#wake();
      },
      call,
      undefined,
      {
        onYield: (value) => {
          if (this.#finished) return;
          this.#buffer.push(value);
          this.#wake();
        },
        onProgress: onProgress === undefined ? undefined : (value) => callProgress(onProgress, value),
      },
    );
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#finished) return { done: true, value: undefined };
      const signal = this.#call?.signal;
      if (signal?.aborted) {
        // The job settles with this reason too; what is buffered is not wanted any more.
        this.#finish();
        throw this.#call!.reasonFor();
      }
      if (this.#at < this.#buffer.length) return { done: false, value: this.#take() as T };
      const outcome = this.#outcome;
      if (outcome !== null) {
        this.#finish();
        if (outcome.failed) throw outcome.value;
        return { done: true, value: outcome.value };
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Leave early: the generator is ended (its `return` runs in the worker), which frees the worker. */
  return(): Promise<IteratorResult<T>> {
    if (!this.#finished) {
      this.#finish();
      if (this.#outcome === null) {
        this.#scheduler.stopStream(this.#job, new CancelledError(`Cannot ${this.#what}: the consumer stopped reading`));
      }
    }
    return Promise.resolve({ done: true, value: undefined });
  }

  /** `await using` leaves the stream as `break` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  #take(): unknown {
    const value = this.#buffer[this.#at];
    this.#buffer[this.#at++] = undefined;
    if (this.#at === this.#buffer.length) {
      this.#buffer = [];
      this.#at = 0;
    }
    this.#taken++;
    // Renew the credit once half of it is used: one message per half window, not per value.
    const upTo = this.#taken + this.#highWaterMark;
    if (this.#outcome === null && upTo - this.#credit >= Math.max(1, this.#highWaterMark >> 1)) {
      this.#credit = upTo;
      this.#scheduler.credit(this.#job, upTo);
    }
    return value;
  }

  #finish(): void {
    this.#finished = true;
    this.#buffer = [];
    this.#at = 0;
    this.#call?.dispose();
    this.#wake();
  }

  #wake(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}

// The iterator behind Pool.imap / imapUnordered: pulls the input lazily, keeps at most
// `ahead` jobs submitted but not yet handed to the consumer, and yields results in input
// order (imap) or completion order (imapUnordered). A consumer that leaves early (break,
// return) withdraws the jobs no worker has taken yet, as executor.map does.
//
// Speed comes from batching: the input is read again only once half the window has been
// consumed, and then the whole free half at once, so the jobs reach the scheduler in one
// tick and the workers in a few large messages instead of one message per consumed result.
import type { CallSignal } from "../_internal/call_signal.ts";
import type { OpenInput } from "../_internal/map_input.ts";
import { CancelledError } from "../errors.ts";
import type { TaskRef } from "../task.ts";
import type { Job } from "./_job.ts";
import type { MapProgressCount } from "./_map_progress.ts";
import type { Scheduler } from "./_scheduler.ts";
import { encodeMapJob, mapMode } from "./_submit.ts";

/** Outcome slot states. */
const EMPTY = 0;
const OK = 1;
const FAILED = 2;

/** Input items an imap holds in flight per worker unless told otherwise. */
export const WINDOW_PER_WORKER = 1024;

/** Most jobs an imap keeps in flight: its rings of outcomes never outgrow this many slots. */
export const MAX_AHEAD = 2 ** 20;

/**
 * Jobs an imap keeps ahead of its consumer: `window` input items (default
 * {@linkcode WINDOW_PER_WORKER} per worker) in whole chunks, and at least two chunks per
 * worker when the caller gave no window, so large chunks still keep every worker busy.
 *
 * @throws {RangeError} when `window` is not a positive integer, or needs more than
 * {@linkcode MAX_AHEAD} jobs in flight
 */
export function imapAhead(window: unknown, chunksize: number, processes: number, what: string): number {
  if (window === undefined) {
    return Math.max(Math.ceil((WINDOW_PER_WORKER * processes) / chunksize), 2 * processes);
  }
  if (typeof window !== "number" || !Number.isInteger(window) || window < 1) {
    throw new RangeError(`Cannot ${what}: the window must be a positive integer, got ${String(window)}`);
  }
  const ahead = Math.ceil(window / chunksize);
  if (ahead > MAX_AHEAD) {
    throw new RangeError(
      `Cannot ${what}: a window of ${window} items is ${ahead} jobs in flight, more than ${MAX_AHEAD}; `
        + `give a smaller window or a larger chunksize`,
    );
  }
  return ahead;
}

/** What an imap needs from its pool. */
export interface ImapSetup {
  scheduler: Scheduler;
  ref: TaskRef;
  spread: boolean;
  input: OpenInput;
  chunksize: number;
  ordered: boolean;
  /** Jobs kept submitted ahead of the consumer (at least 1). */
  ahead: number;
  call: CallSignal | undefined;
  /** The call, for messages: `run imap of task "fib"`. */
  what: string;
  /** The `onProgress` count, when the caller asked for one. */
  progress: MapProgressCount | undefined;
}

/** Results of an imap as an async iterator. */
export class Imap<T> implements AsyncIterableIterator<T> {
  readonly #setup: ImapSetup;
  readonly #ahead: number;
  /** Read more input once no more than this many jobs are outstanding. */
  readonly #lowWater: number;
  #input: OpenInput | null;
  #inputDone = false;
  #feeding = false;
  #stopped = false;
  #submitted = 0;
  #pulled = 0;
  /** Jobs submitted and not yet handed to the consumer. */
  #outstanding = 0;
  #emitted = 0;
  /**
   * Jobs submitted and not yet settled (what leaving early withdraws), each in a slot taken
   * from `#free` (or a new one) and given back when it settles: never more than `ahead`.
   */
  readonly #live: (Job | undefined)[] = [];
  readonly #free: number[] = [];
  #liveCount = 0;
  /**
   * Outcomes waiting for the consumer, with their states beside them, in rings of `ahead`
   * slots: by job number (imap: the jobs in flight never span more than `ahead` numbers),
   * or in the order they came from `#head` on (imapUnordered: never more than `ahead` wait).
   * The arrays grow as slots are first used, so a large window costs only what it holds.
   */
  readonly #values: unknown[] = [];
  readonly #states: number[] = [];
  #head = 0;
  #count = 0;
  /** The value #take found. */
  #taken: unknown;
  #buffer: ArrayLike<unknown> = [];
  #bufferAt = 0;
  #waiter: (() => void) | null = null;

  constructor(setup: ImapSetup) {
    this.#setup = setup;
    this.#ahead = Math.max(1, setup.ahead);
    this.#lowWater = this.#ahead >> 1;
    this.#input = setup.input;
    setup.call?.signal.addEventListener("abort", () => this.#wake(), { once: true });
    this.#feed();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#bufferAt < this.#buffer.length) {
        const value = this.#buffer[this.#bufferAt++];
        if (this.#bufferAt === this.#buffer.length) {
          this.#buffer = [];
          this.#bufferAt = 0;
          this.#handedOut();
        }
        return { done: false, value: value as T };
      }
      if (this.#stopped) return { done: true, value: undefined };
      const call = this.#setup.call;
      if (call?.signal.aborted) {
        const index = this.#unfinished();
        this.#stop();
        throw call.reasonFor(index);
      }
      const state = this.#take();
      if (state !== EMPTY) {
        const value = this.#taken;
        this.#taken = undefined;
        if (state === OK && this.#setup.chunksize !== 1) {
          // A chunk's items count as held until the last of them is handed out.
          this.#buffer = value as ArrayLike<unknown>;
          continue;
        }
        this.#handedOut();
        if (state === FAILED) throw value;
        return { done: false, value: value as T };
      }
      if (this.#inputDone && this.#outstanding === 0) {
        this.#stop();
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => this.#waiter = resolve);
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.#stop();
    this.#buffer = [];
    const input = this.#input;
    this.#input = null;
    if (input !== null && !this.#inputDone) {
      this.#inputDone = true;
      await input.iterator.return?.();
    }
    return { done: true, value: undefined };
  }

  /** Input index of the first item the consumer is still owed, for an abort's error. */
  #unfinished(): number {
    if (this.#setup.ordered) return this.#emitted * this.#setup.chunksize;
    let index = this.#pulled;
    for (const job of this.#live) if (job?.index !== undefined) index = Math.min(index, job.index);
    return index;
  }

  /** A job's outcome has left the iterator: read more input once half the window is free. */
  #handedOut(): void {
    if (--this.#outstanding <= this.#lowWater) this.#feed();
  }

  /** The state of the next outcome due, its value left in #taken; EMPTY when none is ready. */
  #take(): number {
    const at = this.#setup.ordered ? this.#emitted % this.#ahead : this.#head;
    const state = this.#states[at];
    // A slot never written is undefined.
    if (!state) return EMPTY;
    this.#taken = this.#values[at];
    this.#values[at] = undefined;
    this.#states[at] = EMPTY;
    if (this.#setup.ordered) this.#emitted++;
    else {
      this.#head = (at + 1) % this.#ahead;
      this.#count--;
    }
    return state;
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#values.fill(undefined);
    this.#setup.call?.dispose();
    if (this.#liveCount === 0) return;
    const reason = new CancelledError(`Cannot ${this.#setup.what}: the consumer stopped reading`);
    for (const job of this.#live.slice()) if (job !== undefined) this.#setup.scheduler.cancel(job, reason);
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  #arrive(index: number, slot: number, failed: boolean, value: unknown, items = 0): void {
    if (slot !== -1) {
      this.#live[slot] = undefined;
      this.#free.push(slot);
      this.#liveCount--;
    }
    if (this.#stopped) return;
    if (items > 0) this.#setup.progress?.add(items);
    const at = this.#setup.ordered ? index % this.#ahead : (this.#head + this.#count++) % this.#ahead;
    this.#values[at] = value;
    this.#states[at] = failed ? FAILED : OK;
    this.#wake();
  }

  #feed(): void {
    if (this.#feeding || this.#inputDone || this.#stopped) return;
    if (this.#input?.sync) this.#feedSync(this.#input.iterator);
    else void this.#feedAsync();
  }

  /** Fill the window from a sync input, in this call. */
  #feedSync(iterator: Iterator<unknown>): void {
    const ahead = this.#ahead;
    const { chunksize, scheduler } = this.#setup;
    this.#feeding = true;
    try {
      while (!this.#inputDone && !this.#stopped && this.#outstanding < ahead) {
        // With maxQueue, read no more input than the pool has room for.
        if (scheduler.full()) {
          void scheduler.drained().then(() => this.#feed());
          break;
        }
        if (chunksize === 1) {
          const step = iterator.next();
          if (!step.done) this.#submit([step.value]);
          else {
            this.#inputDone = true;
            this.#setup.progress?.setTotal(this.#pulled);
          }
          continue;
        }
        const items: unknown[] = [];
        while (items.length < chunksize) {
          const step = iterator.next();
          if (step.done) {
            this.#inputDone = true;
            this.#setup.progress?.setTotal(this.#pulled + items.length);
            break;
          }
          items.push(step.value);
        }
        if (items.length > 0) this.#submit(items);
      }
    } catch (error) {
      this.#inputFailed(error);
    } finally {
      this.#feeding = false;
    }
    this.#wake();
  }

  /** Fill the window from an async input, an item at a time. */
  async #feedAsync(): Promise<void> {
    const ahead = this.#ahead;
    const { chunksize } = this.#setup;
    this.#feeding = true;
    try {
      while (!this.#inputDone && !this.#stopped && this.#outstanding < ahead) {
        // With maxQueue, read no more input than the pool has room for.
        if (this.#setup.scheduler.full()) {
          await this.#setup.scheduler.drained();
          continue;
        }
        const items: unknown[] = [];
        while (items.length < chunksize) {
          const input = this.#input;
          if (input === null) break;
          const step = await (input.iterator as AsyncIterator<unknown>).next();
          if (step.done) {
            this.#inputDone = true;
            this.#setup.progress?.setTotal(this.#pulled + items.length);
            break;
          }
          items.push(step.value);
        }
        if (items.length > 0 && !this.#stopped) this.#submit(items);
      }
    } catch (error) {
      this.#inputFailed(error);
    } finally {
      this.#feeding = false;
      this.#wake();
    }
  }

  /** The input itself failed: the consumer sees the error where the input broke off. */
  #inputFailed(error: unknown): void {
    this.#inputDone = true;
    this.#outstanding++;
    this.#arrive(this.#submitted++, -1, true, error);
  }

  #submit(items: unknown[]): void {
    const { scheduler, ref, spread, chunksize, call, what, progress } = this.#setup;
    const index = this.#submitted++;
    const start = this.#pulled;
    this.#pulled += items.length;
    this.#outstanding++;
    const slot = this.#free.pop() ?? this.#liveCount;
    this.#liveCount++;
    const settle = (failed: boolean, value: unknown) => this.#arrive(index, slot, failed, value, items.length);
    try {
      scheduler.checkSendableItems(items, start);
      const payload = encodeMapJob(items, start, chunksize, spread, what);
      const mode = mapMode(chunksize, spread);
      // submit() never settles a job before it returns, so the job is live here.
      this.#live[slot] = scheduler.submit(ref, mode, payload, settle, call, start, progress?.hooks());
    } catch (error) {
      settle(true, error);
    }
  }
}

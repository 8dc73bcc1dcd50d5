// The iterator behind Pool.imap / imapUnordered: pulls the input lazily, keeps at most
// `ahead` jobs submitted but not yet handed to the consumer, and yields results in input
// order (imap) or completion order (imapUnordered). A consumer that leaves early (break,
// return) withdraws the jobs no worker has taken yet, as executor.map does.
import type { CallSignal } from "../_internal/call_signal.ts";
import type { OpenInput } from "../_internal/map_input.ts";
import { CancelledError } from "../errors.ts";
import type { TaskRef } from "../task.ts";
import type { Job } from "./_job.ts";
import type { MapProgressCount } from "./_map_progress.ts";
import type { Scheduler } from "./_scheduler.ts";
import { encodeMapJob, mapMode } from "./_submit.ts";

interface Outcome {
  failed: boolean;
  value: unknown;
}

/** What an imap needs from its pool. */
export interface ImapSetup {
  scheduler: Scheduler;
  ref: TaskRef;
  spread: boolean;
  input: OpenInput;
  chunksize: number;
  ordered: boolean;
  /** Jobs kept submitted ahead of the consumer. */
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
  #input: OpenInput | null;
  #inputDone = false;
  #feeding = false;
  #stopped = false;
  #submitted = 0;
  #pulled = 0;
  /** Jobs submitted and not yet handed to the consumer. */
  #outstanding = 0;
  #emitted = 0;
  /** Jobs submitted and not yet settled, by job number: what leaving early withdraws. */
  readonly #live = new Map<number, Job>();
  #byIndex = new Map<number, Outcome>();
  #arrived: Outcome[] = [];
  #arrivedAt = 0;
  #buffer: unknown[] = [];
  #bufferAt = 0;
  #waiter: (() => void) | null = null;

  constructor(setup: ImapSetup) {
    this.#setup = setup;
    this.#input = setup.input;
    setup.call?.signal.addEventListener("abort", () => this.#wake(), { once: true });
    void this.#feed();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#stopped && this.#bufferAt >= this.#buffer.length) return { done: true, value: undefined };
      if (this.#bufferAt < this.#buffer.length) {
        const value = this.#buffer[this.#bufferAt];
        this.#buffer[this.#bufferAt++] = undefined;
        return { done: false, value: value as T };
      }
      const call = this.#setup.call;
      if (call?.signal.aborted) {
        const index = this.#unfinished();
        this.#stop();
        throw call.reasonFor(index);
      }
      const outcome = this.#take();
      if (outcome !== undefined) {
        this.#outstanding--;
        void this.#feed();
        if (outcome.failed) throw outcome.value;
        if (this.#setup.chunksize === 1) return { done: false, value: outcome.value as T };
        this.#buffer = outcome.value as unknown[];
        this.#bufferAt = 0;
        continue;
      }
      if (this.#stopped || (this.#inputDone && this.#outstanding === 0)) {
        this.#stop();
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => this.#waiter = resolve);
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.#stop();
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
    let job = this.#setup.ordered ? this.#emitted : this.#submitted;
    if (!this.#setup.ordered) { for (const number of this.#live.keys()) job = Math.min(job, number); }
    return job * this.#setup.chunksize;
  }

  #take(): Outcome | undefined {
    if (!this.#setup.ordered) {
      const arrived = this.#arrived;
      if (this.#arrivedAt === arrived.length) return undefined;
      const outcome = arrived[this.#arrivedAt];
      arrived[this.#arrivedAt++] = undefined as never;
      if (this.#arrivedAt === arrived.length) {
        this.#arrived = [];
        this.#arrivedAt = 0;
      }
      return outcome;
    }
    const outcome = this.#byIndex.get(this.#emitted);
    if (outcome === undefined) return undefined;
    this.#byIndex.delete(this.#emitted++);
    return outcome;
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#setup.call?.dispose();
    if (this.#live.size === 0) return;
    const reason = new CancelledError(`Cannot ${this.#setup.what}: the consumer stopped reading`);
    for (const job of [...this.#live.values()]) this.#setup.scheduler.cancel(job, reason);
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  #arrive(index: number, failed: boolean, value: unknown, items = 0): void {
    this.#live.delete(index);
    if (this.#stopped) return;
    if (items > 0) this.#setup.progress?.add(items);
    const outcome = { failed, value };
    if (this.#setup.ordered) this.#byIndex.set(index, outcome);
    else this.#arrived.push(outcome);
    this.#wake();
  }

  async #feed(): Promise<void> {
    if (this.#feeding) return;
    this.#feeding = true;
    const { ahead, chunksize } = this.#setup;
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
          const step = input.sync ? input.iterator.next() : await input.iterator.next();
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
      // The input itself failed: the consumer sees the error where the input broke off.
      this.#inputDone = true;
      this.#outstanding++;
      this.#arrive(this.#submitted++, true, error);
    } finally {
      this.#feeding = false;
      this.#wake();
    }
  }

  #submit(items: unknown[]): void {
    const { scheduler, ref, spread, chunksize, call, what, progress } = this.#setup;
    const index = this.#submitted++;
    const start = this.#pulled;
    this.#pulled += items.length;
    this.#outstanding++;
    const settle = (failed: boolean, value: unknown) => this.#arrive(index, failed, value, items.length);
    try {
      scheduler.checkSendableItems(items, start);
      const payload = encodeMapJob(items, start, chunksize, spread, what);
      const mode = mapMode(chunksize, spread);
      const job = scheduler.submit(ref, mode, payload, settle, call, start, progress?.hooks());
      // submit() never settles a job before it returns, so the job is live here.
      this.#live.set(index, job);
    } catch (error) {
      settle(true, error);
    }
  }
}

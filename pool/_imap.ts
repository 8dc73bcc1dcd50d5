// The iterator behind Pool.imap / imapUnordered: pulls the input lazily, keeps at most
// `ahead` chunks submitted but not yet handed to the consumer, and yields results in
// input order (imap) or completion order (imapUnordered).
import type { TaskRef } from "../task.ts";
import type { CallSignal } from "./_call_signal.ts";
import { encodeChunk, encodeMapCall, encodeStarCall } from "./_payload.ts";
import { CALL, MAP, STARMAP } from "./_protocol.ts";
import type { Scheduler } from "./_scheduler.ts";

interface Outcome {
  failed: boolean;
  value: unknown;
}

/** What an imap needs from its pool. */
export interface ImapSetup {
  scheduler: Scheduler;
  ref: TaskRef;
  spread: boolean;
  source: Iterable<unknown> | AsyncIterable<unknown>;
  chunksize: number;
  ordered: boolean;
  ahead: number;
  call: CallSignal | undefined;
}

/** Results of an imap as an async iterator. */
export class Imap<T> implements AsyncIterableIterator<T> {
  readonly #setup: ImapSetup;
  #input: Iterator<unknown> | AsyncIterator<unknown> | null = null;
  #sync = true;
  #inputDone = false;
  #feeding = false;
  #stopped = false;
  #submitted = 0;
  #pulled = 0;
  /** Chunks submitted and not yet handed to the consumer. */
  #outstanding = 0;
  #emitted = 0;
  #byIndex = new Map<number, Outcome>();
  #arrived: Outcome[] = [];
  #buffer: unknown[] = [];
  #bufferAt = 0;
  #waiter: (() => void) | null = null;

  constructor(setup: ImapSetup) {
    this.#setup = setup;
    const source = setup.source as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
    if (typeof source[Symbol.asyncIterator] === "function") {
      this.#input = source[Symbol.asyncIterator]!();
      this.#sync = false;
    } else if (typeof source[Symbol.iterator] === "function") {
      this.#input = source[Symbol.iterator]!();
    } else {
      throw new TypeError(
        `Cannot run imap of task "${setup.ref.name}": the input must be an iterable or async iterable, got ${
          String(source)
        }`,
      );
    }
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
      const signal = this.#setup.call?.signal;
      if (signal?.aborted) {
        this.#stop();
        throw signal.reason;
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
      await input.return?.();
    }
    return { done: true, value: undefined };
  }

  #take(): Outcome | undefined {
    if (!this.#setup.ordered) return this.#arrived.shift();
    const outcome = this.#byIndex.get(this.#emitted);
    if (outcome === undefined) return undefined;
    this.#byIndex.delete(this.#emitted++);
    return outcome;
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#setup.call?.dispose();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  #arrive(index: number, failed: boolean, value: unknown): void {
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
        const items: unknown[] = [];
        while (items.length < chunksize) {
          const input = this.#input;
          if (input === null) break;
          const step = this.#sync ? (input as Iterator<unknown>).next() : await input.next();
          if (step.done) {
            this.#inputDone = true;
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
    const { scheduler, ref, spread, chunksize, call } = this.#setup;
    const index = this.#submitted++;
    const start = this.#pulled;
    this.#pulled += items.length;
    this.#outstanding++;
    const settle = (failed: boolean, value: unknown) => this.#arrive(index, failed, value);
    try {
      if (chunksize === 1) {
        const root = `iterable[${start}]`;
        const payload = spread
          ? encodeStarCall(items[0], root, `run task "${ref.name}"`)
          : encodeMapCall(items[0], root);
        scheduler.submit(ref, CALL, payload, settle, call?.signal);
      } else {
        scheduler.submit(ref, spread ? STARMAP : MAP, encodeChunk(items, start, "iterable"), settle, call?.signal);
      }
    } catch (error) {
      settle(true, error);
    }
  }
}

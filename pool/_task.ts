// One record per task (a single call, or one chunk of a map): what to send, where it
// went, and how to settle it. The record owns its cleanup: it drops its payload once
// settled (not once posted: a dead worker's unstarted tasks are sent again) and removes
// its abort listener when it settles.
import type { Mode } from "./_protocol.ts";

/** Waiting in the pool's queue. */
export const QUEUED = 0;
/** Posted to a worker, which runs it or holds it next in line. */
export const DISPATCHED = 1;
/** Settled; later news about it is ignored. */
export const SETTLED = 2;

/** Called once with the outcome: the value, or the error (already rebuilt). */
export type Settle = (failed: boolean, value: unknown) => void;

/** One unit of work as the scheduler tracks it. */
export class Task {
  /** Unique in its pool; what the worker echoes back. */
  readonly id: number;
  /** Export name of the function, for error messages. */
  readonly name: string;
  /** Index of the function in the pool's function table. */
  readonly fnId: number;
  readonly mode: Mode;
  /** Items in the task: 1 for a call, the chunk's length for a map chunk. */
  readonly size: number;
  /** The arguments (or chunk) ready to post; dropped once settled. */
  payload: unknown;
  /** Where shareable objects go back in the payload, or 0 when there are none. */
  refs: unknown;
  /** The call's signal: a task that has one is only posted to an idle worker. */
  readonly signal: AbortSignal | undefined;
  state: number = QUEUED;
  /** The worker holding the task, once dispatched. */
  slot: unknown = null;
  readonly #settle: Settle;
  #onAbort: (() => void) | undefined;

  constructor(
    id: number,
    name: string,
    fnId: number,
    mode: Mode,
    size: number,
    payload: unknown,
    refs: unknown,
    settle: Settle,
    signal: AbortSignal | undefined,
  ) {
    this.id = id;
    this.name = name;
    this.fnId = fnId;
    this.mode = mode;
    this.size = size;
    this.payload = payload;
    this.refs = refs;
    this.#settle = settle;
    this.signal = signal;
  }

  /** Run `onAbort` once if the task's signal fires before the task settles. */
  listen(onAbort: () => void): void {
    if (this.signal === undefined) return;
    this.#onAbort = onAbort;
    this.signal.addEventListener("abort", onAbort, { once: true });
  }

  /** Settle once; returns false when the task had already settled. */
  done(failed: boolean, value: unknown): boolean {
    if (this.state === SETTLED) return false;
    this.state = SETTLED;
    this.payload = undefined;
    this.slot = null;
    if (this.#onAbort !== undefined) {
      this.signal!.removeEventListener("abort", this.#onAbort);
      this.#onAbort = undefined;
    }
    this.#settle(failed, value);
    return true;
  }
}

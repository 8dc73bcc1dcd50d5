// One record per job (CPython's work item): a single call, or one chunk of a map. It says
// what to send, where it went, and how to settle it. The record owns its cleanup: it drops
// its payload once settled (not once posted: a dead worker's unstarted jobs are sent again)
// and removes its abort listener when it settles.
import type { CallSignal } from "../_internal/call_signal.ts";
import type { Encoded } from "../_internal/shareable.ts";
import { type Mode, STREAM } from "./_protocol.ts";
import type { WorkerSlot } from "./_worker_slot.ts";

/** Waiting in the pool's queue. */
export const QUEUED = 0;
/** Posted to a worker, which runs it or holds it next in line. */
export const DISPATCHED = 1;
/** Settled; later news about it is ignored. */
export const SETTLED = 2;
/** Where a job is in its life. */
export type JobState = typeof QUEUED | typeof DISPATCHED | typeof SETTLED;

/** Where shareable objects go back in a payload, or 0 when there are none (0 clones cheaply). */
export type PayloadRefs = NonNullable<Encoded["refs"]> | 0;

/**
 * Called once with the outcome: the value, or the error (already rebuilt), and the job, so
 * one function can settle all the jobs of a map.
 */
export type Settle = (failed: boolean, value: unknown, job: Job) => void;

/** What a caller hears from a running job besides its outcome. */
export interface JobHooks {
  /** A value the task reported while on input index `index` (0 for a call). */
  onProgress?: (value: unknown, index: number) => void;
  /** A value a stream job yielded. */
  onYield?: (value: unknown) => void;
}

/** One unit of work as the scheduler tracks it. */
export class Job {
  /** Unique in its pool; what the worker echoes back. */
  readonly id: number;
  /** Export name of the function, for error messages. */
  readonly name: string;
  /** Index of the function in the pool's function table. */
  readonly fnId: number;
  readonly mode: Mode;
  /** Items in the job: 1 for a call, the chunk's length for a map chunk. */
  readonly size: number;
  /** Input index of the job's first item in a map call; `undefined` for apply/submit. */
  readonly index: number | undefined;
  /** The arguments (or chunk) ready to post; dropped once settled. */
  payload: unknown;
  refs: PayloadRefs;
  /** The call's timeout and signal: a job that has them runs alone on its worker (see the scheduler). */
  readonly call: CallSignal | undefined;
  /** The call's merged signal. */
  readonly signal: AbortSignal | undefined;
  /** Progress and yields; `undefined` for most jobs, which hear nothing before they settle. */
  readonly hooks: JobHooks | undefined;
  state: JobState = QUEUED;
  /** The worker holding the job, once dispatched. */
  slot: WorkerSlot | null = null;
  /** When it was submitted (the parent's `performance.now()`), for its wait time. */
  submittedAt = 0;
  readonly #settle: Settle;
  #onAbort: (() => void) | undefined;

  constructor(
    id: number,
    name: string,
    fnId: number,
    mode: Mode,
    size: number,
    payload: Encoded,
    settle: Settle,
    call: CallSignal | undefined,
    index?: number,
    hooks?: JobHooks,
  ) {
    this.id = id;
    this.name = name;
    this.fnId = fnId;
    this.mode = mode;
    this.size = size;
    this.payload = payload.value;
    this.refs = payload.refs ?? 0;
    this.#settle = settle;
    this.call = call;
    this.signal = call?.signal;
    this.index = index;
    this.hooks = hooks;
  }

  /**
   * Whether the job runs alone on its worker: one with a signal (stopping the worker must
   * take nothing else down) or a stream (it holds the worker until its consumer is done).
   */
  get alone(): boolean {
    return this.signal !== undefined || this.mode === STREAM;
  }

  /** Run `onAbort` once if the job's signal (it has one) fires before the job settles. */
  listen(onAbort: () => void): void {
    this.#onAbort = onAbort;
    this.signal!.addEventListener("abort", onAbort, { once: true });
  }

  /** Settle once; returns false when the job had already settled. */
  done(failed: boolean, value: unknown): boolean {
    if (this.state === SETTLED) return false;
    this.state = SETTLED;
    this.payload = undefined;
    this.refs = 0;
    this.slot = null;
    if (this.#onAbort !== undefined) {
      this.signal!.removeEventListener("abort", this.#onAbort);
      this.#onAbort = undefined;
    }
    this.#settle(failed, value, this);
    return true;
  }
}

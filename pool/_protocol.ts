// Parent ↔ pool-worker messages. Jobs and results travel in flat arrays, several per
// message, because one postMessage costs far more than cloning a few more array slots.
import type { ErrorRecord } from "../_internal/error_record.ts";
import type { Encoded } from "../_internal/shareable.ts";
import type { TaskRef } from "../task.ts";

/** Job mode `fn(...args)`: the payload is the argument list. */
export const CALL = 0;
/** Job mode `items.map((x) => fn(x))`: the payload is a chunk of single arguments. */
export const MAP = 1;
/** Job mode `tuples.map((a) => fn(...a))`: the payload is a chunk of argument lists. */
export const STARMAP = 2;
/**
 * Job mode `fn(...args)` returning a generator whose yields stream to the parent: the
 * payload is the argument list followed by the high-water mark (see {@linkcode CreditMessage}).
 */
export const STREAM = 3;
/**
 * Job mode `fn(payload)`: the payload is the one argument itself (a map with chunksize
 * 1), so neither side builds an argument list per item.
 */
export const ONE = 4;
/** How a worker calls the function for one job. */
export type Mode = typeof CALL | typeof MAP | typeof STARMAP | typeof STREAM | typeof ONE;
/** Bits of the mode field that hold the {@linkcode Mode}. */
export const MODE_MASK = 7;
/**
 * Flag added to the mode field of a job whose call's timeout counts from its start: the
 * worker sends a {@linkcode StartedMessage} before it runs the job.
 */
export const REPORT_START = 8;
/**
 * Flag added to the mode field of a job whose caller listens for progress: without it the
 * worker drops what the task reports, so a call without `onProgress` costs no message.
 */
export const PROGRESS = 16;
/**
 * Flag added to the mode field of a record that stands for a span of ONE jobs: the next
 * items of one map, with ids and input indexes counting up from the record's own. Its
 * payload is the list of their arguments, so each job costs one slot on the wire, not
 * {@linkcode JOB_FIELDS}.
 */
export const SPAN = 32;

/**
 * Fields per job in {@linkcode RunMessage.jobs}: id, function id, mode, payload, shared refs
 * or 0, and the input index of its first item (0 for a call that is not part of a map).
 */
export const JOB_FIELDS = 6;
/**
 * Fields per result in {@linkcode DoneMessage.results}: job id, failed (0 or 1, or
 * {@linkcode DONE_SPAN}), value or error record.
 */
export const RESULT_FIELDS = 3;
/**
 * The failed field of a result record that stands for jobs that ran one after the other
 * and succeeded, their ids counting up from the record's own: its value is the list of
 * their values, so each costs one slot on the wire.
 */
export const DONE_SPAN = 2;

/**
 * Bytes of a worker's status block: one Float64 holding the id of the job it is running,
 * or -1 between tasks (the parent reads it after a crash to learn which job was running),
 * then one Int32 at {@linkcode BELL_OFFSET} counting the messages the parent has posted to
 * the worker (a worker without a pollable inbox spins on it before it sleeps), then one
 * Int32 at {@linkcode CLAIM_OFFSET}: how many of the jobs posted to the worker are decided.
 */
export const STATUS_BYTES = 16;

/** Byte offset of the message counter in the status block. */
export const BELL_OFFSET = 8;

/**
 * Byte offset of the claim word: the number of jobs posted to the worker, counted in the
 * order posted, whose fate is decided. The worker claims job `n` (its `n`th job) before
 * running it by moving the word from `n` to `n + 1`; the parent takes an unstarted job back
 * the same way, from the front of what the worker has not claimed. Both use
 * compare-and-swap, so each job is either run by this worker or taken back, never both.
 */
export const CLAIM_OFFSET = 12;

/** What a pool worker receives when it starts. */
export interface WorkerPayload {
  initializer: TaskRef | null;
  initargs: Encoded;
  /**
   * The worker's status block (see {@linkcode STATUS_BYTES}); absent for an OS child
   * process, which shares no memory with its parent and keeps a block of its own.
   */
  status?: SharedArrayBuffer;
  /** Measure the heap after each batch and report it (`maxMemoryPerChild` is set). */
  measureHeap?: boolean;
}

/** Parent → worker: run these jobs in order, after defining the functions they name. */
export interface RunMessage {
  t: "run";
  /** `[fnId, module, name]` triples for functions this worker has not seen yet. */
  fns: (number | string)[];
  /** {@linkcode JOB_FIELDS} slots per job. */
  jobs: unknown[];
}

/**
 * Parent → worker: the caller gave up on job `id`; if it is running, fire its signal with
 * `reason` (a record: `value` holds a reason that was not an error).
 */
export interface AbortMessage {
  t: "abort";
  id: number;
  reason: ErrorRecord;
}

/** Parent → worker: finish what you hold, then exit with code 0. */
export interface RetireMessage {
  t: "retire";
}

/** Worker → parent: the initializer ran; jobs may run now. */
export interface ReadyMessage {
  t: "ready";
}

/** Worker → parent: the worker could not start (initializer threw, module missing). */
export interface BootFailedMessage {
  t: "bootFailed";
  error: ErrorRecord;
}

/** Worker → parent: job `id` (sent with {@linkcode REPORT_START}) starts to run now. */
export interface StartedMessage {
  t: "started";
  id: number;
}

/** Worker → parent: results in job order, and how long the jobs took in total. */
export interface DoneMessage {
  t: "done";
  results: unknown[];
  ms: number;
  /**
   * Two whole numbers per result, for the pool's stats: how many µs the job ran, and how
   * many µs before the worker last finished a job (about when this message left) it
   * started. Absent when a result had to be sent
   * on its own.
   */
  times?: number[];
  /** Bytes of heap the worker had in use after the batch, when asked to measure it. */
  heap?: number;
}

/**
 * Parent → worker: the consumer of stream job `id` has made room; the worker may have sent
 * `upTo` yields in all before it waits again (the consumer's count plus the high-water mark).
 */
export interface CreditMessage {
  t: "credit";
  id: number;
  upTo: number;
}

/** Parent → worker: the consumer of stream job `id` left; end the generator (its `return`). */
export interface StopMessage {
  t: "stop";
  id: number;
}

/**
 * Worker → parent: job `id` reported `value` while on input index `index` (0 for a call).
 * Sent at once, so it reaches the parent before the job's result.
 */
export interface ProgressMessage {
  t: "progress";
  id: number;
  index: number;
  value: unknown;
}

/** Worker → parent: stream job `id` yielded `value`. */
export interface YieldMessage {
  t: "yield";
  id: number;
  value: unknown;
}

/** Any message a parent sends a pool worker. */
export type ToWorker = RunMessage | AbortMessage | RetireMessage | CreditMessage | StopMessage;
/** Any message a pool worker sends its parent. */
export type FromWorker =
  | ReadyMessage
  | BootFailedMessage
  | StartedMessage
  | DoneMessage
  | ProgressMessage
  | YieldMessage;

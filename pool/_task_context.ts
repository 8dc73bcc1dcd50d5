// Worker-side state of the pool task running now: its job id, the input index of the item
// it is on, and its abort signal. A worker runs one task at a time, so one record serves
// them all in turn: currentTask() hands out snapshots, never the record itself.
// The slot lives on globalThis under a registered symbol: a task module may reach this
// file through another copy of the package (source beside built files) than the worker
// entry does, and both must see the same running task.

/** The task a pool worker is running. */
export class RunningTask {
  /** The job's id, unique within its pool. */
  id: number;
  /** Input index of the item being run: 0 for apply/submit. */
  index: number;
  /**
   * Sends what the task reports to its caller: set by the pool worker when the caller
   * listens for progress, else `undefined` (reports are dropped without a message).
   */
  progress: ((value: unknown) => void) | undefined;
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  constructor(id: number, index: number) {
    this.id = id;
    this.index = index;
  }

  /** Start over for job `id` on input index `index`: not aborted, no signal made yet. */
  reset(id: number, index: number): void {
    this.id = id;
    this.index = index;
    this.progress = undefined;
    this.#controller = undefined;
    this.#aborted = false;
    this.#reason = undefined;
  }

  /** Whether the caller gave up on the task. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why the caller gave up on the task. */
  get reason(): unknown {
    return this.#reason;
  }

  /** The task's signal, made on first use: most tasks never ask for it. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Fire the task's signal with `reason`; later calls do nothing. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

const KEY = Symbol.for("@mproc/multiprocessing/running-task");
const slot: { task: RunningTask | undefined } =
  ((globalThis as Record<symbol, unknown>)[KEY] as { task: RunningTask | undefined } | undefined)
    ?? ((globalThis as Record<symbol, unknown>)[KEY] = { task: undefined }) as { task: RunningTask | undefined };

/** The record the tasks of this worker use in turn. */
let record: RunningTask | undefined;

/** Mark job `id` (input index `index`) as running in this worker. */
export function enterTask(id: number, index: number): RunningTask {
  if (record === undefined) record = new RunningTask(id, index);
  else record.reset(id, index);
  return slot.task = record;
}

/** Mark the running task as ended. */
export function leaveTask(): void {
  slot.task = undefined;
}

/** The task running in this worker, or `undefined` outside a pool task. */
export function activeTask(): RunningTask | undefined {
  return slot.task;
}

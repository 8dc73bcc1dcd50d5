// The one place that matches queued tasks to workers, replaces dead workers and settles
// results. Pool and ProcessPoolExecutor both sit on it; they differ in what a worker's
// death means (replace it, or break the pool) and in their error messages.
//
// Placement (#pump): tasks queued in the same tick go to a worker in one message; each
// worker holds a window of tasks sized to about TARGET_MS of work, so it never waits for
// the parent between tasks; a task with a signal goes only to a worker holding nothing, so
// an abort either removes it from the queue or stops the worker that is running it.
import { type ErrorRecord, recordToError } from "../_internal/error_record.ts";
import { nextChildPath } from "../_internal/identity.ts";
import type { Encoded } from "../_internal/shareable.ts";
import { spawnChild, TERMINATED } from "../_internal/worker_parent.ts";
import { BrokenProcessPoolError, WorkerDiedError } from "../errors.ts";
import type { TaskRef } from "../task.ts";
import {
  CALL,
  type FromWorker,
  type Mode,
  RESULT_FIELDS,
  type RunMessage,
  STATUS_BYTES,
  type WorkerPayload,
} from "./_protocol.ts";
import { DISPATCHED, QUEUED, type Settle, Task } from "./_task.ts";
import { TaskQueue } from "./_task_queue.ts";
import { READY, RETIRING, STARTING, STOPPING, WorkerSlot } from "./_worker_slot.ts";

const ENTRY = new URL(import.meta.url.replace(/_scheduler\.(ts|js)$/, "_pool_worker.$1"));

/** Milliseconds of work each worker should hold, to hide the message round trip. */
const TARGET_MS = 8;
const MIN_WINDOW = 2;
const MAX_WINDOW = 1024;

/** How a scheduler is set up. */
export interface SchedulerOptions {
  processes: number;
  initializer: TaskRef | null;
  initargs: Encoded;
  maxTasksPerChild: number | undefined;
  /** Worker names are `${workerName}-N`. */
  workerName: string;
  /** What to call the owner in messages: "pool", "executor". */
  owner: string;
  /** Executor rule: a worker that dies mid-work breaks the whole pool. */
  breakOnDeath: boolean;
}

/** Queue, workers and their tasks, for one Pool or ProcessPoolExecutor. */
export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #slots = new Set<WorkerSlot>();
  readonly #queue = new TaskQueue();
  readonly #fnIds = new Map<string, number>();
  readonly #fnRefs: TaskRef[] = [];
  #nextId = 0;
  #spawned = 0;
  #pending = 0;
  #pumpScheduled = false;
  /**
   * Average milliseconds per item (a call, or one item of a chunk) of each function,
   * measured by the workers; a function not measured yet gets the smallest window, so its
   * first tasks spread evenly.
   */
  readonly #itemMs: number[] = [];
  #closed = false;
  #terminated = false;
  #broken: Error | null = null;
  #refuse: ((name: string) => Error) | undefined;
  #exitWaiters: (() => void)[] = [];

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#fill();
  }

  /** Tasks submitted and not yet settled. */
  get pending(): number {
    return this.#pending;
  }

  /** Why the pool stopped taking work after a failure, or `null`. */
  get broken(): Error | null {
    return this.#broken;
  }

  /** Whether `close()` or `terminate()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queue a task; `settle` is called exactly once. */
  submit(ref: TaskRef, mode: Mode, payload: Encoded, settle: Settle, signal?: AbortSignal): Task {
    const key = `${ref.name}\0${ref.module}`;
    let fnId = this.#fnIds.get(key);
    if (fnId === undefined) {
      fnId = this.#fnRefs.length;
      this.#fnIds.set(key, fnId);
      this.#fnRefs.push({ module: ref.module, name: ref.name });
    }
    const size = mode === CALL ? 1 : (payload.value as unknown[]).length;
    const task = new Task(this.#nextId++, ref.name, fnId, mode, size, payload.value, payload.refs ?? 0, settle, signal);
    if (this.#pending++ === 0) this.#setRef(true);
    const refused = this.#terminated ? this.#refuse?.(ref.name) : this.#broken;
    if (refused) {
      // Work that outlived its pool (an imap still reading its input) fails, never hangs.
      queueMicrotask(() => this.#finish(task, true, refused));
      return task;
    }
    this.#queue.push(task);
    task.listen(() => this.#abort(task));
    // After close() the workers may have exited already: start what this task needs.
    if (this.#closed) this.#fill();
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      queueMicrotask(() => this.#pump());
    }
    return task;
  }

  /** Remove a task that is still queued; false once a worker holds it. */
  cancel(task: Task, reason: unknown): boolean {
    if (task.state !== QUEUED) return false;
    this.#queue.removed();
    this.#finish(task, true, reason);
    return true;
  }

  /** Whether a worker holds `task` (Python's "running" for a future). */
  isDispatched(task: Task): boolean {
    return task.state === DISPATCHED;
  }

  /** Take no new work; workers exit once the pending work is done. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pending === 0) this.#retireAll();
  }

  /** Stop every worker now; every pending task fails with `reason(task)`. */
  async terminate(reason: (name: string) => Error): Promise<void> {
    this.#closed = true;
    if (!this.#terminated) {
      this.#terminated = true;
      this.#refuse = reason;
      const tasks = this.#queue.drain();
      for (const slot of this.#slots) {
        tasks.push(...slot.releaseAll());
        this.#stop(slot);
      }
      for (const task of tasks) this.#finish(task, true, reason(task.name));
    }
    await this.join();
  }

  /** Resolve once every worker has exited, after close or terminate. */
  join(): Promise<void> {
    if (this.#slots.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#exitWaiters.push(resolve));
  }

  #fill(): void {
    const { processes } = this.#options;
    while (this.#active() < processes && this.#shouldRun()) this.#spawn();
  }

  #shouldRun(): boolean {
    return !this.#terminated && this.#broken === null && (!this.#closed || this.#pending > 0);
  }

  #active(): number {
    let n = 0;
    for (const slot of this.#slots) if (slot.state === STARTING || slot.state === READY) n++;
    return n;
  }

  #spawn(): void {
    const { initializer, initargs, workerName } = this.#options;
    const status = new SharedArrayBuffer(STATUS_BYTES);
    const current = new Float64Array(status, 0, 1);
    current[0] = -1;
    const payload: WorkerPayload = { initializer, initargs, status };
    const name = `${workerName}-${++this.#spawned}`;
    const child = spawnChild({ entry: ENTRY, payload, name, path: nextChildPath(), daemon: true, inbox: true });
    const slot = new WorkerSlot(child, name, current);
    this.#slots.add(slot);
    if (this.#pending > 0) child.handle.ref();
    child.handle.onMessage((message) => this.#onMessage(slot, message as FromWorker));
    void child.exited.then((code) => this.#onExit(slot, code));
  }

  #setRef(on: boolean): void {
    for (const slot of this.#slots) {
      // Retiring and stopping workers stay referenced: someone may be waiting for their exit.
      if (slot.state === RETIRING || slot.state === STOPPING) continue;
      if (on) slot.child.handle.ref();
      else slot.child.handle.unref();
    }
  }

  /** How many tasks like `task` a worker should hold. */
  #window(task: Task): number {
    const ms = this.#itemMs[task.fnId];
    if (ms === undefined) return MIN_WINDOW;
    return Math.max(MIN_WINDOW, Math.min(MAX_WINDOW, Math.ceil(TARGET_MS / (ms * task.size))));
  }

  #pump(): void {
    this.#pumpScheduled = false;
    const queue = this.#queue;
    if (queue.size === 0) return;
    const window = this.#window(queue.peek()!);
    const max = this.#options.maxTasksPerChild ?? Infinity;
    const open: WorkerSlot[] = [];
    for (const slot of this.#slots) {
      if ((slot.state === STARTING || slot.state === READY) && slot.assigned < max) open.push(slot);
    }
    // Least loaded first, so a task does not wait behind a long one while a worker idles.
    if (open.length > 1) open.sort((a, b) => a.load - b.load);
    for (let i = 0; i < open.length && queue.size > 0; i++) {
      const slot = open[i];
      // An even share of what is queued, so one worker does not take a whole short map.
      const share = Math.ceil(queue.size / (open.length - i));
      const quota = Math.min(window - slot.load, share, max - slot.assigned);
      if (quota <= 0) continue;
      const picked: Task[] = [];
      while (picked.length < quota) {
        const task = queue.peek();
        if (task === undefined || (task.signal !== undefined && (slot.load > 0 || picked.length > 0))) break;
        queue.shift();
        picked.push(task);
      }
      if (picked.length > 0) this.#post(slot, picked);
    }
  }

  #post(slot: WorkerSlot, picked: Task[]): void {
    const fns: (number | string)[] = [];
    const tasks: unknown[] = [];
    for (const task of picked) {
      if (slot.known[task.fnId] !== true) {
        slot.known[task.fnId] = true;
        const ref = this.#fnRefs[task.fnId];
        fns.push(task.fnId, ref.module, ref.name);
      }
      tasks.push(task.id, task.fnId, task.mode, task.payload, task.refs);
    }
    try {
      slot.post({ t: "run", fns, tasks } satisfies RunMessage);
    } catch (cause) {
      // Something encode() let through cannot be cloned: fail only the tasks that hold it.
      if (picked.length === 1) {
        slot.known[picked[0].fnId] = false;
        this.#finish(
          picked[0],
          true,
          new TypeError(
            `Cannot run task "${picked[0].name}": its arguments cannot be copied to a worker: ${
              (cause as Error)?.message
            }`,
            { cause },
          ),
        );
        return;
      }
      for (const task of picked) slot.known[task.fnId] = false;
      for (const task of picked) this.#post(slot, [task]);
      return;
    }
    // Payloads stay with their tasks until they settle: a dead worker's unstarted tasks are sent again.
    for (const task of picked) {
      task.state = DISPATCHED;
      task.slot = slot;
      slot.hold(task);
      slot.assigned++;
    }
  }

  #onMessage(slot: WorkerSlot, message: FromWorker): void {
    switch (message.t) {
      case "done":
        this.#onDone(slot, message.results, message.ms);
        break;
      case "ready":
        if (slot.state === STARTING) slot.state = READY;
        break;
      case "bootFailed":
        slot.bootError = recordToError(message.error);
        break;
    }
  }

  #onDone(slot: WorkerSlot, results: unknown[], ms: number): void {
    let fnId = -1;
    let items = 0;
    for (let i = 0; i < results.length; i += RESULT_FIELDS) {
      const task = slot.release();
      if (task === undefined || task.id !== results[i]) continue;
      if (fnId === -1) fnId = task.fnId;
      items += task.size;
      const failed = results[i + 1] === 1;
      this.#finish(task, failed, failed ? recordToError(results[i + 2] as ErrorRecord) : results[i + 2]);
    }
    if (ms > 0 && items > 0) {
      // A batch usually holds one function; a mixed one is charged to its first.
      const perItem = ms / items;
      const old = this.#itemMs[fnId];
      this.#itemMs[fnId] = old === undefined ? perItem : old * 0.7 + perItem * 0.3;
    }
    const max = this.#options.maxTasksPerChild;
    if (max !== undefined && slot.assigned >= max && slot.load === 0 && slot.state !== STOPPING) {
      this.#retire(slot);
      this.#fill();
    }
    this.#pump();
  }

  #finish(task: Task, failed: boolean, value: unknown): void {
    if (!task.done(failed, value)) return;
    if (--this.#pending === 0) {
      this.#setRef(false);
      if (this.#closed) this.#retireAll();
    }
  }

  #abort(task: Task): void {
    const reason = task.signal!.reason;
    if (task.state === QUEUED) {
      this.cancel(task, reason);
      return;
    }
    const slot = task.slot as WorkerSlot | null;
    this.#finish(task, true, reason);
    // The task is running or first in line (see #pump): only stopping its worker stops it.
    if (slot !== null) this.#stop(slot);
  }

  #stop(slot: WorkerSlot): void {
    if (slot.state === STOPPING) return;
    slot.state = STOPPING;
    // Someone may be waiting for the exit (terminate, join): keep the program alive for it.
    slot.child.handle.ref();
    void slot.child.stop(TERMINATED);
  }

  #retire(slot: WorkerSlot): void {
    if (slot.state === RETIRING || slot.state === STOPPING) return;
    slot.state = RETIRING;
    // A retiring worker exits soon; join() may be waiting for it.
    slot.child.handle.ref();
    slot.post({ t: "retire" });
  }

  #retireAll(): void {
    for (const slot of this.#slots) this.#retire(slot);
  }

  #onExit(slot: WorkerSlot, code: number): void {
    this.#slots.delete(slot);
    const held = slot.releaseAll().filter((task) => task.state === DISPATCHED);
    try {
      if (this.#terminated) return;
      if (this.#broken !== null) {
        for (const task of held) this.#finish(task, true, this.#broken);
        return;
      }
      if (slot.state === STOPPING || (slot.state === RETIRING && held.length === 0)) {
        this.#queue.unshift(held);
      } else if (slot.state === STARTING) {
        const detail = slot.bootError === null
          ? `it exited with code ${code}`
          : `${slot.bootError.name}: ${slot.bootError.message}`;
        this.#break(
          new BrokenProcessPoolError(
            `Cannot run tasks in the ${this.#options.owner}: worker "${slot.name}" failed to start: ${detail}`,
            { cause: slot.bootError ?? undefined },
          ),
          held,
        );
        return;
      } else if (this.#options.breakOnDeath) {
        this.#break(
          new BrokenProcessPoolError(
            `Cannot finish the pending tasks: worker "${slot.name}" of the ${this.#options.owner} exited abruptly with code ${code}`,
          ),
          held,
        );
        return;
      } else {
        const at = held.findIndex((task) => task.id === slot.current[0]);
        if (at !== -1) {
          const [task] = held.splice(at, 1);
          this.#finish(
            task,
            true,
            new WorkerDiedError(
              `Cannot finish task "${task.name}": its worker "${slot.name}" exited with code ${code}`,
              code,
              slot.child.ident,
            ),
          );
        }
        this.#queue.unshift(held);
      }
      this.#fill();
      this.#pump();
    } finally {
      if (this.#slots.size === 0 && this.#closed) {
        for (const resolve of this.#exitWaiters.splice(0)) resolve();
      }
    }
  }

  #break(error: Error, held: Task[]): void {
    this.#broken = error;
    for (const task of held) this.#finish(task, true, error);
    for (const task of this.#queue.drain()) this.#finish(task, true, error);
    for (const slot of this.#slots) this.#stop(slot);
  }
}

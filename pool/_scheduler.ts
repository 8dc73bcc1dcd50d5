// The one place that matches queued jobs to workers, replaces dead workers and settles
// results. Pool and ProcessPoolExecutor both sit on it; they differ in what a worker's
// death means (replace it, or break the pool) and in their error messages.
//
// Placement (#pump): jobs queued in the same tick go to a worker in one message; each
// worker holds a window of jobs sized to about TARGET_MS of work, so it never waits for
// the parent between jobs; a job with a signal runs alone, on a worker holding nothing and
// given nothing more until its worker reports it, so an abort removes it from the queue,
// takes it back before it starts, or fires its signal in the worker, which it may heed
// within abortGrace before the worker is stopped; no other job runs twice because of it.
//
// Sizing (#fill): the pool keeps `minProcesses` workers, and more, up to `processes`, while
// it holds more jobs than workers; with `idleTimeout` a worker beyond `minProcesses` that
// had no work for that long retires. A worker whose heap passed `maxMemoryPerChild` retires
// after the job it is running; its unstarted jobs go back to the queue.
import { entryBeside, runIfBundled } from "../_internal/bundled.ts";
import type { CallSignal } from "../_internal/call_signal.ts";
import { type ErrorRecord, errorToRecord, recordToError } from "../_internal/error_record.ts";
import { nextChildPath } from "../_internal/identity.ts";
import { spawnProcess } from "../_internal/process_parent.ts";
import { checkForProcess, type Encoded } from "../_internal/shareable.ts";
import { spawnChild, TERMINATED } from "../_internal/worker_parent.ts";
import { runtime } from "../_runtime/mod.ts";
import { BrokenProcessPoolError, ProcessError, WorkerDiedError } from "../errors.ts";
import type { StartMethod } from "../process/mod.ts";
import type { TaskRef } from "../task.ts";
import { Histogram } from "./_histogram.ts";
import { DISPATCHED, Job, type JobHooks, QUEUED, type Settle, SETTLED } from "./_job.ts";
import { JobQueue } from "./_job_queue.ts";
import { fromWire, toWire } from "./_pack.ts";
import {
  CALL,
  DONE_SPAN,
  type DoneMessage,
  type FromWorker,
  MAP,
  type Mode,
  ONE,
  PROGRESS,
  REPORT_START,
  RESULT_FIELDS,
  type RunMessage,
  SPAN,
  STATUS_BYTES,
  STREAM,
  type WorkerPayload,
} from "./_protocol.ts";
import { READY, RETIRING, STARTING, STOPPING, type WorkerChild, WorkerSlot } from "./_worker_slot.ts";
import type { PoolStats, WorkerStats } from "./stats.ts";

const ENTRY = entryBeside(import.meta.url, "_scheduler", "_pool_worker");
await runIfBundled("_pool_worker", () => import("./_pool_worker.ts"));

/** Milliseconds of work each worker should hold, to hide the message round trip. */
const TARGET_MS = 8;
const MIN_WINDOW = 2;
const MAX_WINDOW = 1024;
/** Milliseconds a running task may ignore its abort by default. */
const DEFAULT_ABORT_GRACE = 1000;
/**
 * Queues the scheduler's own microtasks: Node's queueMicrotask wraps every callback in an
 * AsyncResource (about 1 µs a call here), a resolved promise's `then` queues the same
 * microtask for a third of that.
 */
const RESOLVED = Promise.resolve();

/** How a scheduler is set up. */
export interface SchedulerOptions {
  processes: number;
  initializer: TaskRef | null;
  initargs: Encoded;
  maxTasksPerChild: number | undefined;
  /** Workers kept however idle the pool is; the pool starts with these. @default {processes} */
  minProcesses?: number;
  /** Milliseconds a worker beyond `minProcesses` may go without work before it retires. */
  idleTimeout?: number;
  /** Bytes of heap in use after a batch beyond which a worker is replaced. */
  maxMemoryPerChild?: number;
  /** Tasks queued (not started) at which {@linkcode Scheduler.full} turns true. */
  maxQueue?: number;
  /** Worker names are `${workerName}-N`. */
  workerName: string;
  /** What to call the owner in messages: "pool", "executor". */
  owner: string;
  /** Executor rule: a worker that dies mid-work breaks the whole pool. */
  breakOnDeath: boolean;
  /**
   * Milliseconds a running task may ignore its abort before its worker is stopped.
   * @default {1000}
   */
  abortGrace?: number;
  /** Workers are threads, or OS child processes. @default {"thread"} */
  startMethod?: StartMethod;
  /** Heap bound of each OS worker process, in MiB. */
  maxHeapMiB?: number;
  /** Start a worker; the scheduler's unit tests give a stand-in. */
  spawn?: (name: string, payload: WorkerPayload) => WorkerChild;
}

function spawnPoolWorker(name: string, payload: WorkerPayload): WorkerChild {
  return spawnChild({ entry: ENTRY, payload, name, path: nextChildPath(), daemon: true, inbox: true });
}

function spawnPoolProcess(name: string, payload: WorkerPayload, maxHeapMiB?: number): WorkerChild {
  // The status block cannot cross to another OS process: the child keeps its own.
  const { status: _, ...rest } = payload;
  return spawnProcess({ entry: ENTRY, payload: rest, name, path: nextChildPath(), daemon: true, maxHeapMiB });
}

/**
 * The mode field of `job` as posted: its mode, and its flags. A deferred timeout starts
 * when the worker says the job started; the progress flag tells the worker someone
 * listens, so a task's reports cost nothing otherwise.
 */
function codeOf(job: Job): number {
  let code: number = job.call !== undefined && !job.call.started ? job.mode | REPORT_START : job.mode;
  if (job.hooks?.onProgress !== undefined) code |= PROGRESS;
  return code;
}

/**
 * Where the span of jobs starting at `picked[at]` (posted with `code`) ends: the jobs after
 * it that are the next items of the same map (ONE jobs with the next ids and input
 * indexes, the same function and flags, no shared objects) travel as one record.
 */
function spanEnd(picked: Job[], at: number, code: number): number {
  const first = picked[at];
  let end = at + 1;
  if (first.mode !== ONE || first.refs !== 0) return end;
  for (; end < picked.length; end++) {
    const job = picked[end];
    const k = end - at;
    if (
      job.id !== first.id + k || job.index !== first.index! + k || job.fnId !== first.fnId || job.refs !== 0
      || job.mode !== ONE || codeOf(job) !== code
    ) break;
  }
  return end;
}

/** Queue, workers and their jobs, for one Pool or ProcessPoolExecutor. */
export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #slots = new Set<WorkerSlot>();
  readonly #queue = new JobQueue();
  readonly #fnIds = new Map<string, number>();
  readonly #fnRefs: TaskRef[] = [];
  #lastRef: TaskRef | undefined;
  #lastFnId = 0;
  #nextId = 0;
  #spawned = 0;
  #pending = 0;
  #pumpScheduled = false;
  /** Whether the workers are referenced: while jobs are pending, and a moment after. */
  #referenced = false;
  #unrefQueued = false;
  /**
   * Unreference the workers if the pool is still idle once the microtasks queued before
   * have run: a caller that awaits each result in a loop submits its next job first, and
   * the workers need not be unreferenced and referenced again for every call.
   */
  readonly #unrefLater = () => {
    this.#unrefQueued = false;
    if (this.#pending === 0 && this.#referenced) this.#setRef(false);
  };
  /** `#pump` as a bound function, made once: a submission burst queues it. */
  readonly #pumpLater = () => this.#pump();
  #clockRead = false;
  #submitNow = 0;
  /**
   * Average milliseconds per item (a call, or one item of a chunk) of each function,
   * measured by the workers; a function not measured yet gets the smallest window, so its
   * first tasks spread evenly.
   */
  readonly #itemMs: number[] = [];
  #closed = false;
  #terminated = false;
  #broken: BrokenProcessPoolError | null = null;
  #refuse: ((name: string) => Error) | undefined;
  #exitWaiters: (() => void)[] = [];
  readonly #min: number;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #drainWaiters: (() => void)[] = [];
  readonly #createdAt = performance.now();
  #completed = 0;
  #failed = 0;
  /** Milliseconds the workers spent running jobs, as they reported it. */
  #busyMs = 0;
  readonly #runTime = new Histogram();
  readonly #waitTime = new Histogram();

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#min = Math.min(options.processes, options.minProcesses ?? options.processes);
    this.#fill();
  }

  /**
   * Throw unless `value` can reach this scheduler's workers: for OS processes, nothing in
   * shared memory (a lock, a SharedArrayBuffer), which they do not share.
   *
   * @throws {TypeError} naming where the culprit sits in `root`
   */
  checkSendable(value: unknown, root: string): void {
    if (this.#options.startMethod === "process") checkForProcess(value, root);
  }

  /** {@linkcode Scheduler.checkSendable} for map input `items`, numbered from `start`. */
  checkSendableItems(items: readonly unknown[], start: number): void {
    if (this.#options.startMethod !== "process") return;
    for (let i = 0; i < items.length; i++) checkForProcess(items[i], `iterable[${start + i}]`);
  }

  /** Jobs submitted and not yet settled. */
  get pending(): number {
    return this.#pending;
  }

  /** Jobs submitted and not started: those waiting in the queue or behind a worker's running job. */
  get queued(): number {
    let running = 0;
    for (const slot of this.#slots) if (slot.load > 0 && slot.state !== STOPPING) running++;
    return Math.max(0, this.#pending - running);
  }

  /** Whether `maxQueue` jobs are queued, so a single submission must be refused. */
  full(): boolean {
    const max = this.#options.maxQueue;
    return max !== undefined && this.queued >= max;
  }

  /**
   * Resolve once fewer than `maxQueue` jobs are queued (with no `maxQueue`, once none is):
   * a submission made then is accepted.
   */
  drained(): Promise<void> {
    if (this.#isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** The counts and percentiles of {@linkcode PoolStats}. */
  stats(): PoolStats {
    let running = 0;
    const workers: WorkerStats[] = [];
    for (const slot of this.#slots) {
      if (slot.load > 0 && slot.state !== STOPPING) running++;
      if (slot.state === STARTING || slot.state === READY) workers.push({ ident: slot.child.ident, tasks: slot.tasks });
    }
    const run = this.#runTime;
    const wait = this.#waitTime;
    const capacity = (performance.now() - this.#createdAt) * this.#options.processes;
    return {
      completed: this.#completed,
      failed: this.#failed,
      running,
      queued: Math.max(0, this.#pending - running),
      workers,
      runTime: { p50: run.percentile(50), p90: run.percentile(90), p99: run.percentile(99) },
      waitTime: { p50: wait.percentile(50), p90: wait.percentile(90), p99: wait.percentile(99) },
      utilization: capacity > 0 ? Math.min(1, this.#busyMs / capacity) : 0,
    };
  }

  /** Why the pool stopped taking work after a failure, or `null`. */
  get broken(): Error | null {
    return this.#broken;
  }

  /** Whether `close()` or `terminate()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queue a job; `settle` is called exactly once, after every hook call. `call` holds the
   * call's timeout and signal; `index` is the input index of the job's first item when it
   * belongs to a map.
   */
  submit(
    ref: TaskRef,
    mode: Mode,
    payload: Encoded,
    settle: Settle,
    call?: CallSignal,
    index?: number,
    hooks?: JobHooks,
  ): Job {
    const fnId = this.#fnIdOf(ref);
    const size = mode === ONE || mode === CALL || mode === STREAM ? 1 : (payload.value as unknown[]).length;
    const job = new Job(this.#nextId++, ref.name, fnId, mode, size, payload, settle, call, index, hooks);
    if (this.#pending++ === 0 && !this.#referenced) this.#setRef(true);
    const refused = this.#terminated ? this.#refuse?.(ref.name) : this.#brokenError();
    if (refused) {
      // Work that outlived its pool (an imap still reading its input) fails, never hangs.
      queueMicrotask(() => this.#finish(job, true, refused));
      return job;
    }
    this.#queue.push(job);
    if (job.signal !== undefined) job.listen(() => this.#abort(job));
    // After close() the workers may have exited already: start what this task needs. A pool
    // below its size grows while it holds more jobs than workers.
    if (this.#closed || this.#min < this.#options.processes) this.#fill();
    // One clock read per burst of submissions (until the pump runs): a map's jobs share it.
    if (!this.#clockRead) {
      this.#clockRead = true;
      this.#submitNow = performance.now();
    }
    job.submittedAt = this.#submitNow;
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      void RESOLVED.then(this.#pumpLater);
    }
    return job;
  }

  /**
   * The function table index of `ref`. A map submits every job with the same reference:
   * the last one is remembered, so a job does not pay for a key built from the module URL.
   */
  #fnIdOf(ref: TaskRef): number {
    if (ref === this.#lastRef) return this.#lastFnId;
    const key = `${ref.name}\0${ref.module}`;
    let fnId = this.#fnIds.get(key);
    if (fnId === undefined) {
      fnId = this.#fnRefs.length;
      this.#fnIds.set(key, fnId);
      this.#fnRefs.push({ module: ref.module, name: ref.name });
    }
    this.#lastRef = ref;
    this.#lastFnId = fnId;
    return fnId;
  }

  /** Remove a job that is still queued; false once a worker holds it. */
  cancel(job: Job, reason: unknown): boolean {
    if (job.state !== QUEUED) return false;
    this.#queue.removed();
    this.#finish(job, true, reason);
    return true;
  }

  /**
   * Drop every job that has not started: those queued, and (thread workers) those a worker
   * holds but has not begun; each fails with `reason(job)`. Running jobs go on.
   *
   * @returns how many jobs were dropped
   */
  cancelPending(reason: (job: Job) => unknown): number {
    this.takeBack();
    const dropped = this.#queue.size;
    // Settling a map's job withdraws the map's other jobs; peek skips those.
    for (let job = this.#queue.peek(); job !== undefined; job = this.#queue.peek()) this.cancel(job, reason(job));
    return dropped;
  }

  /**
   * Put the jobs thread workers hold but have not started back at the front of the queue,
   * so they can be withdrawn like queued ones. OS workers keep theirs: their progress is
   * not shared.
   */
  takeBack(): void {
    const back: Job[] = [];
    for (const slot of this.#slots) {
      if (slot.state !== STARTING && slot.state !== READY) continue;
      const jobs = slot.steal(Infinity);
      slot.assigned -= jobs.length;
      back.push(...jobs);
    }
    this.#queue.unshift(back);
    if (back.length > 0 && !this.#pumpScheduled) {
      this.#pumpScheduled = true;
      void RESOLVED.then(this.#pumpLater);
    }
  }

  /**
   * Let stream job `job` have sent `upTo` yields in all; nothing to do before a worker
   * holds it (its first credit travels with it).
   */
  credit(job: Job, upTo: number): void {
    if (job.state === DISPATCHED) job.slot!.post({ t: "credit", id: job.id, upTo });
  }

  /**
   * End stream job `job` early: withdrawn while queued, else its worker ends the generator
   * (calls its `return`) and the job settles as done, which frees the worker.
   */
  stopStream(job: Job, reason: unknown): void {
    if (!this.cancel(job, reason) && job.state === DISPATCHED) job.slot!.post({ t: "stop", id: job.id });
  }

  /** Whether a worker holds `job` (Python's "running" for a future). */
  isDispatched(job: Job): boolean {
    return job.state === DISPATCHED;
  }

  /** Take no new work; workers exit once the pending work is done. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearIdle();
    if (this.#pending === 0) this.#retireAll();
  }

  /** Stop every worker now; every pending job fails with `reason(taskName)`. */
  async terminate(reason: (name: string) => Error): Promise<void> {
    this.#closed = true;
    this.#clearIdle();
    if (!this.#terminated) {
      this.#terminated = true;
      this.#refuse = reason;
      const jobs = this.#queue.drain();
      for (const slot of this.#slots) {
        jobs.push(...slot.releaseAll());
        this.#stop(slot);
      }
      for (const job of jobs) this.#finish(job, true, reason(job.name));
    }
    await this.join();
  }

  /** Resolve once every worker has exited, after close or terminate. */
  join(): Promise<void> {
    if (this.#slots.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#exitWaiters.push(resolve));
  }

  #fill(): void {
    const want = Math.min(this.#options.processes, Math.max(this.#min, this.#pending));
    for (let active = this.#active(); active < want && this.#shouldRun(); active++) this.#spawn();
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
    const { initializer, initargs, workerName, startMethod, maxHeapMiB } = this.#options;
    const spawn = this.#options.spawn
      ?? (startMethod === "process"
        ? (name: string, payload: WorkerPayload) => spawnPoolProcess(name, payload, maxHeapMiB)
        : spawnPoolWorker);
    const status = new SharedArrayBuffer(STATUS_BYTES);
    const current = new Float64Array(status, 0, 1);
    current[0] = -1;
    const payload: WorkerPayload = { initializer, initargs, status };
    if (this.#options.maxMemoryPerChild !== undefined) payload.measureHeap = true;
    const name = `${workerName}-${++this.#spawned}`;
    const child = spawn(name, payload);
    const slot = new WorkerSlot(child, name, current, startMethod !== "process");
    this.#slots.add(slot);
    if (this.#referenced) child.handle.ref();
    child.handle.onMessage((message) => this.#onMessage(slot, message as FromWorker));
    void child.exited.then((code) => this.#onExit(slot, code));
  }

  #setRef(on: boolean): void {
    this.#referenced = on;
    for (const slot of this.#slots) {
      // Retiring and stopping workers stay referenced: someone may be waiting for their exit.
      if (slot.state === RETIRING || slot.state === STOPPING) continue;
      if (on) slot.child.handle.ref();
      else slot.child.handle.unref();
    }
  }

  /** How many jobs like `job` a worker should hold. */
  #window(job: Job): number {
    const ms = this.#itemMs[job.fnId];
    if (ms === undefined) return MIN_WINDOW;
    return Math.max(MIN_WINDOW, Math.min(MAX_WINDOW, Math.ceil(TARGET_MS / (ms * job.size))));
  }

  #pump(): void {
    this.#pumpScheduled = false;
    this.#clockRead = false;
    if (this.#queue.size > 0) this.#place();
  }

  #place(): void {
    const queue = this.#queue;
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
      if (slot.guarded) continue;
      // An even share of what is queued, so one worker does not take a whole short map.
      const share = Math.ceil(queue.size / (open.length - i));
      const quota = Math.min(window - slot.load, share, max - slot.assigned);
      if (quota <= 0) continue;
      const picked: Job[] = [];
      while (picked.length < quota) {
        const job = queue.peek();
        if (job === undefined) break;
        if (job.alone) {
          // It runs alone: first on an idle worker, with nothing behind it.
          if (slot.load === 0 && picked.length === 0) picked.push(queue.shift()!);
          break;
        }
        queue.shift();
        picked.push(job);
      }
      if (picked.length > 0) this.#post(slot, picked);
    }
    // A worker that was idle runs a job now: one fewer is queued.
    if (this.#drainWaiters.length > 0) this.#wakeDrained();
  }

  /**
   * With nothing queued, give an idle worker up to half of what a busy worker has not
   * started (work stealing, as CPython's shared queue balances by pulling): items whose cost
   * varies must not leave one worker idle while another holds a window of slow ones. Called
   * when a worker reports, and only takes from a worker that is running a job: one that is
   * between jobs is about to start the next, and taking that job would only cost a message.
   */
  #balance(): void {
    if (this.#queue.size > 0 || this.#slots.size < 2) return;
    const max = this.#options.maxTasksPerChild ?? Infinity;
    for (const thief of this.#slots) {
      if (thief.state !== READY || thief.load > 0 || !thief.tracksCurrent || thief.assigned >= max) continue;
      let donor: WorkerSlot | undefined;
      let most = 0;
      for (const slot of this.#slots) {
        if (slot === thief || slot.guarded || slot.state !== READY || slot.current[0] === -1) continue;
        const unstarted = slot.unstarted;
        if (unstarted > most) {
          most = unstarted;
          donor = slot;
        }
      }
      if (donor === undefined) return;
      const jobs = donor.steal(Math.min(Math.ceil(most / 2), max - thief.assigned));
      if (jobs.length === 0) continue;
      donor.assigned -= jobs.length;
      this.#post(thief, jobs);
    }
  }

  #post(slot: WorkerSlot, picked: Job[]): void {
    const fns: (number | string)[] = [];
    const jobs: unknown[] = [];
    for (let i = 0; i < picked.length; i++) {
      const job = picked[i];
      if (slot.known[job.fnId] !== true) {
        slot.known[job.fnId] = true;
        const ref = this.#fnRefs[job.fnId];
        fns.push(job.fnId, ref.module, ref.name);
      }
      const code = codeOf(job);
      const end = spanEnd(picked, i, code);
      if (end > i + 1) {
        const payloads = new Array(end - i);
        for (let j = i; j < end; j++) payloads[j - i] = picked[j].payload;
        jobs.push(job.id, job.fnId, code | SPAN, payloads, 0, job.index);
        i = end - 1;
        continue;
      }
      const payload = job.mode === MAP ? toWire(job.payload) : job.payload;
      jobs.push(job.id, job.fnId, code, payload, job.refs, job.index ?? 0);
    }
    try {
      slot.post({ t: "run", fns, jobs } satisfies RunMessage);
    } catch (cause) {
      // Something encode() let through cannot be cloned: fail only the jobs that hold it.
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
      for (const job of picked) slot.known[job.fnId] = false;
      for (const job of picked) this.#post(slot, [job]);
      return;
    }
    // Payloads stay with their jobs until they settle: a dead worker's unstarted jobs are sent again.
    for (const job of picked) {
      job.state = DISPATCHED;
      job.slot = slot;
      slot.hold(job);
      slot.assigned++;
    }
  }

  #onMessage(slot: WorkerSlot, message: FromWorker): void {
    switch (message.t) {
      case "done":
        this.#onDone(slot, message);
        break;
      case "ready":
        if (slot.state === STARTING) {
          slot.state = READY;
          slot.idleSince = performance.now();
          this.#armIdle();
          // An abort that came while the worker booted gets its grace from now.
          if (slot.aborting !== null) this.#armGrace(slot, slot.aborting);
        }
        break;
      case "started": {
        const job = slot.peek();
        if (job?.id === message.id) job.call?.start();
        break;
      }
      case "bootFailed":
        slot.bootError = recordToError(message.error);
        break;
      case "progress":
        // A job settled or withdrawn meanwhile hears nothing more: no progress after a result.
        this.#running(slot, message.id)?.hooks?.onProgress?.(message.value, message.index);
        break;
      case "yield":
        this.#running(slot, message.id)?.hooks?.onYield?.(message.value);
        break;
    }
  }

  /** The unsettled job `id` that `slot` holds, or `undefined`. */
  #running(slot: WorkerSlot, id: number): Job | undefined {
    if (slot.state === STOPPING) return undefined;
    const job = slot.find(id);
    return job?.state === DISPATCHED ? job : undefined;
  }

  #onDone(slot: WorkerSlot, message: DoneMessage): void {
    const { results, ms, times } = message;
    let fnId = -1;
    let items = 0;
    const now = performance.now();
    for (let i = 0, k = 0; i < results.length; i += RESULT_FIELDS) {
      const first = results[i] as number;
      const failed = results[i + 1];
      // A span record holds the values of jobs `first`, `first + 1`, ... (see DONE_SPAN).
      const values = failed === DONE_SPAN ? results[i + 2] as unknown[] : undefined;
      const count = values === undefined ? 1 : values.length;
      for (let j = 0; j < count; j++, k += 2) {
        const job = slot.release();
        if (job === undefined || job.id !== first + j) {
          this.#confused(slot, job, first + j);
          return;
        }
        if (slot.aborting === job) slot.clearAbort();
        if (fnId === -1) fnId = job.fnId;
        items += job.size;
        slot.tasks++;
        if (times !== undefined) {
          // The message's transit counts as waiting: a few µs, and it keeps both clocks apart.
          this.#runTime.record(times[k] / 1000);
          this.#waitTime.record(now - times[k + 1] / 1000 - job.submittedAt);
        }
        if (failed === 1) this.#finish(job, true, recordToError(results[i + 2] as ErrorRecord));
        else {
          const value = values === undefined ? results[i + 2] : values[j];
          this.#finish(job, false, job.mode === MAP ? fromWire(value) : value);
        }
      }
    }
    this.#busyMs += ms;
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
    const heapLimit = this.#options.maxMemoryPerChild;
    if (heapLimit !== undefined && message.heap !== undefined && message.heap > heapLimit) this.#recycle(slot);
    if (slot.load === 0 && this.#options.idleTimeout !== undefined) {
      slot.idleSince = now;
      this.#armIdle();
    }
    this.#pump();
    this.#balance();
  }

  /**
   * Replace a worker whose heap grew past `maxMemoryPerChild`: it retires after the job it
   * runs; the jobs it has not started run elsewhere (a thread's, that is: an OS child's
   * cannot be taken back, and it runs them first).
   */
  #recycle(slot: WorkerSlot): void {
    if (slot.state !== READY) return;
    this.#retire(slot);
    const back = slot.steal(Infinity);
    slot.assigned -= back.length;
    for (const job of back) job.slot = null;
    this.#queue.unshift(back);
    this.#fill();
  }

  /**
   * Retire, once idleTimeout has passed, the workers beyond `minProcesses` that have had no
   * work that long, longest idle first. One unref'd timer, set for the first that may be
   * due: an idle pool never keeps the program alive.
   */
  #armIdle(): void {
    const ms = this.#options.idleTimeout;
    if (ms === undefined || this.#idleTimer !== undefined || this.#closed) return;
    let active = 0;
    let earliest = Infinity;
    for (const slot of this.#slots) {
      if (slot.state !== STARTING && slot.state !== READY) continue;
      active++;
      if (slot.state === READY && slot.load === 0 && slot.idleSince < earliest) earliest = slot.idleSince;
    }
    if (active <= this.#min || earliest === Infinity) return;
    const timer = setTimeout(() => {
      this.#idleTimer = undefined;
      this.#retireIdle();
      // Beyond 2^31 - 1 ms a timer fires at once; one that fires early only sets the next.
    }, Math.min(2 ** 31 - 1, Math.max(0, earliest + ms - performance.now())));
    runtime.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  #retireIdle(): void {
    if (this.#closed) return;
    const ms = this.#options.idleTimeout!;
    // Timers may fire a little early by performance.now().
    const due = performance.now() - ms + 1;
    const idle: WorkerSlot[] = [];
    for (const slot of this.#slots) {
      if (slot.state === READY && slot.load === 0 && slot.idleSince <= due) idle.push(slot);
    }
    idle.sort((a, b) => a.idleSince - b.idleSince);
    let active = this.#active();
    for (const slot of idle) {
      if (active <= this.#min) break;
      // Left unref'd when the pool is idle: it exits at once, and must not hold the program.
      this.#retire(slot, false);
      active--;
    }
    this.#armIdle();
  }

  #clearIdle(): void {
    if (this.#idleTimer === undefined) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #isDrained(): boolean {
    return this.queued < (this.#options.maxQueue ?? 1);
  }

  #wakeDrained(): void {
    if (!this.#isDrained()) return;
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }

  /**
   * A worker sent a result for a job other than the one it was given next: its order can no
   * longer be trusted. Fail the job it should have answered, and replace the worker; the
   * jobs it still holds go back to the queue.
   */
  #confused(slot: WorkerSlot, expected: Job | undefined, got: unknown): void {
    if (slot.state === STOPPING) return;
    if (expected !== undefined) {
      this.#finish(
        expected,
        true,
        new ProcessError(
          `Cannot finish task "${expected.name}": worker "${slot.name}" answered job ${
            String(got)
          } where job ${expected.id} was due; the worker is replaced`,
        ),
      );
    }
    this.#queue.unshift(slot.releaseAll().filter((job) => job.state === DISPATCHED));
    this.#stop(slot);
    this.#fill();
    this.#pump();
  }

  #finish(job: Job, failed: boolean, value: unknown): void {
    const ran = job.state === DISPATCHED;
    if (!job.done(failed, value)) return;
    if (ran) {
      if (failed) this.#failed++;
      else this.#completed++;
    }
    if (--this.#pending === 0) {
      if (!this.#unrefQueued) {
        this.#unrefQueued = true;
        void RESOLVED.then(this.#unrefLater);
      }
      if (this.#closed) this.#retireAll();
    }
    if (this.#drainWaiters.length > 0) this.#wakeDrained();
  }

  #abort(job: Job): void {
    if (job.state === SETTLED) return;
    const reason = job.call!.reasonFor(job.index);
    if (job.state === QUEUED) {
      this.cancel(job, reason);
      return;
    }
    const slot = job.slot!;
    // The job runs alone on its worker (see #place): a thread worker that has not begun it
    // gives it back, and it never runs.
    const back = slot.steal(1);
    slot.assigned -= back.length;
    this.#finish(job, true, reason);
    if (back.length === 0) this.#interrupt(slot, job, reason);
    else this.#pump();
  }

  /**
   * Fire the signal of `job` in the worker running it; stop the worker unless the job ends
   * within abortGrace.
   */
  #interrupt(slot: WorkerSlot, job: Job, reason: unknown): void {
    if (slot.state === STOPPING) return;
    const grace = this.#options.abortGrace ?? DEFAULT_ABORT_GRACE;
    if (grace === 0) return this.#stop(slot);
    try {
      slot.post({ t: "abort", id: job.id, reason: errorToRecord(reason) });
    } catch {
      return this.#stop(slot);
    }
    slot.aborting = job;
    // A booting worker has not begun the job (an OS child cannot be asked): the grace counts
    // from when it is ready, or a slow boot would cost the worker.
    if (slot.state !== STARTING) this.#armGrace(slot, job);
  }

  /** Stop `slot` unless its aborted `job` ends within abortGrace. */
  #armGrace(slot: WorkerSlot, job: Job): void {
    const grace = this.#options.abortGrace ?? DEFAULT_ABORT_GRACE;
    if (grace === Infinity) return;
    slot.graceTimer = setTimeout(() => {
      if (slot.aborting === job) this.#stop(slot);
    }, grace);
  }

  #stop(slot: WorkerSlot): void {
    if (slot.state === STOPPING) return;
    slot.clearAbort();
    slot.state = STOPPING;
    // Someone may be waiting for the exit (terminate, join): keep the program alive for it.
    slot.child.handle.ref();
    void slot.child.stop(TERMINATED);
  }

  #retire(slot: WorkerSlot, keepAlive = true): void {
    if (slot.state === RETIRING || slot.state === STOPPING) return;
    slot.state = RETIRING;
    // A retiring worker exits soon; join() may be waiting for it.
    if (keepAlive) slot.child.handle.ref();
    slot.post({ t: "retire" });
  }

  #retireAll(): void {
    this.#clearIdle();
    for (const slot of this.#slots) {
      this.#retire(slot);
      // One retired for idling is unref'd; join() waits for it now.
      slot.child.handle.ref();
    }
  }

  #onExit(slot: WorkerSlot, code: number): void {
    this.#slots.delete(slot);
    slot.clearAbort();
    const held = slot.releaseAll().filter((job) => job.state === DISPATCHED);
    try {
      if (this.#terminated) return;
      if (this.#broken !== null) {
        for (const job of held) this.#finish(job, true, this.#brokenError());
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
            { cause: slot.bootError ?? this.#died(slot, code) },
          ),
          held,
        );
        return;
      } else if (this.#options.breakOnDeath) {
        this.#break(
          new BrokenProcessPoolError(
            `Cannot finish the pending tasks: worker "${slot.name}" of the ${this.#options.owner} exited abruptly with code ${code}`,
            { cause: this.#died(slot, code) },
          ),
          held,
        );
        return;
      } else {
        // An OS child cannot show which job it was running: blame the oldest it held, the
        // one it ran first (a finished job whose result was not sent yet may take the blame).
        const at = slot.tracksCurrent ? held.findIndex((job) => job.id === slot.current[0]) : held.length > 0 ? 0 : -1;
        if (at !== -1) {
          const [job] = held.splice(at, 1);
          this.#finish(
            job,
            true,
            new WorkerDiedError(
              `Cannot finish task "${job.name}": its worker "${slot.name}" exited with code ${code}`,
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

  #died(slot: WorkerSlot, code: number): WorkerDiedError {
    return new WorkerDiedError(`Worker "${slot.name}" exited with code ${code}`, code, slot.child.ident);
  }

  /**
   * A fresh error for one job of a broken pool, or `null` when the pool is not broken: each
   * job (each future) gets its own instance, all with the same message and cause.
   */
  #brokenError(): BrokenProcessPoolError | null {
    const broken = this.#broken;
    return broken === null ? null : new BrokenProcessPoolError(broken.message, { cause: broken.cause });
  }

  #break(error: BrokenProcessPoolError, held: Job[]): void {
    this.#broken = error;
    for (const job of held) this.#finish(job, true, this.#brokenError());
    for (const job of this.#queue.drain()) this.#finish(job, true, this.#brokenError());
    for (const slot of this.#slots) this.#stop(slot);
  }
}

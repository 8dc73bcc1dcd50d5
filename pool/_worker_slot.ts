// One record per pool worker: its child, the jobs it holds in the order it runs them,
// which functions it already knows, and how many jobs it was given (maxTasksPerChild).
import type { WorkerHandle } from "../_runtime/mod.ts";
import type { Job } from "./_job.ts";
import { BELL_OFFSET, CLAIM_OFFSET, type ToWorker } from "./_protocol.ts";

/**
 * What the scheduler uses of a started worker, a thread or an OS process (tests give it a
 * stand-in).
 */
export interface WorkerChild {
  readonly ident: number;
  readonly handle: Pick<WorkerHandle, "post" | "onMessage" | "ref" | "unref">;
  readonly exited: Promise<number>;
  stop(code: number): Promise<number>;
}

/** Started; the initializer may still be running. */
export const STARTING = 0;
/** The initializer ran. */
export const READY = 1;
/** Asked to exit once it has finished what it holds. */
export const RETIRING = 2;
/** Stopped on purpose (abort of its running task, or terminate). */
export const STOPPING = 3;

/** Where a worker is in its life. */
export type SlotState = typeof STARTING | typeof READY | typeof RETIRING | typeof STOPPING;

/** A pool worker as the scheduler sees it. */
export class WorkerSlot {
  readonly child: WorkerChild;
  readonly name: string;
  /** The worker's status block: the id of the task it runs, or -1. */
  readonly current: Float64Array;
  state: SlotState = STARTING;
  /** Jobs given to the worker over its life, for maxTasksPerChild. */
  assigned = 0;
  /** Jobs the worker finished, for the pool's stats. */
  tasks = 0;
  /** When the worker last ran out of work (`performance.now()`), for idleTimeout. */
  idleSince: number;
  /** Why the worker failed to start, when it says so before exiting. */
  bootError: Error | null = null;
  /** Function ids this worker has been told about. */
  readonly known: boolean[] = [];
  /** The running job whose caller gave up, while the worker has `abortGrace` to end it. */
  aborting: Job | null = null;
  /** Stops the worker when `aborting` outlives its grace. */
  graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Jobs in the order posted; `null` marks one taken back for another worker. */
  #held: (Job | null | undefined)[] = [];
  #head = 0;
  /** Number (in posting order) of the job at `#head`. */
  #headSeq = 0;
  /** Jobs posted over the worker's life. */
  #sent = 0;
  /** `null` entries after `#head`. */
  #holes = 0;
  readonly #bell: Int32Array;
  readonly #claim: Int32Array;
  /** Whether `current` is shared with the worker (a thread), so it shows the running job. */
  readonly tracksCurrent: boolean;

  constructor(child: WorkerChild, name: string, current: Float64Array, tracksCurrent = true) {
    this.child = child;
    this.name = name;
    this.current = current;
    this.tracksCurrent = tracksCurrent;
    this.idleSince = performance.now();
    this.#bell = new Int32Array(current.buffer, BELL_OFFSET, 1);
    this.#claim = new Int32Array(current.buffer, CLAIM_OFFSET, 1);
  }

  /** Send the worker a message and count it on the worker's bell. */
  post(message: ToWorker): void {
    this.child.handle.post(message);
    Atomics.add(this.#bell, 0, 1);
  }

  /** Number of jobs the worker holds (running or next in line). */
  get load(): number {
    return this.#held.length - this.#head - this.#holes;
  }

  /** Jobs posted that the worker has not started, and that could run elsewhere. */
  get unstarted(): number {
    return this.tracksCurrent ? this.#sent - Atomics.load(this.#claim, 0) : 0;
  }

  /**
   * Whether the worker holds a job that runs alone (see Job.alone): aborting it stops the
   * worker, which must not take other work down with it, and a stream holds it until done.
   */
  get guarded(): boolean {
    return this.#held[this.#head]?.alone === true;
  }

  /** The job with id `id` that this worker holds, or `undefined`. */
  find(id: number): Job | undefined {
    const held = this.#held;
    for (let i = this.#head; i < held.length; i++) if (held[i]?.id === id) return held[i]!;
    return undefined;
  }

  /** Record a job posted to this worker. */
  hold(job: Job): void {
    this.#held.push(job);
    this.#sent++;
  }

  /** The oldest job held: the one the worker runs now or next. */
  peek(): Job | undefined {
    this.#trim();
    return this.#held[this.#head] ?? undefined;
  }

  /** Forget the aborted job and its grace timer: it ended, or the worker is stopping. */
  clearAbort(): void {
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.aborting = null;
  }

  /** Take the oldest job held, whose result the worker just sent. */
  release(): Job | undefined {
    this.#trim();
    const job = this.#held[this.#head];
    if (job === undefined || job === null) return undefined;
    this.#held[this.#head++] = undefined;
    this.#headSeq++;
    this.#trim();
    return job;
  }

  /** Take every job still held, oldest first. */
  releaseAll(): Job[] {
    const out = this.#held.slice(this.#head).filter((job) => job !== null) as Job[];
    this.#held = [];
    this.#head = 0;
    this.#headSeq = this.#sent;
    this.#holes = 0;
    return out;
  }

  /**
   * Take back up to `max` jobs the worker has not started, the next ones in its line, to
   * run elsewhere. Each is decided on the claim word (see CLAIM_OFFSET), so the worker
   * skips exactly these: none runs twice, none is lost.
   */
  steal(max: number): Job[] {
    const out: Job[] = [];
    if (!this.tracksCurrent) return out;
    while (out.length < max) {
      const decided = Atomics.load(this.#claim, 0);
      if (decided >= this.#sent) break;
      // A failed swap means the worker claimed that job just now: try the next one.
      if (Atomics.compareExchange(this.#claim, 0, decided, decided + 1) !== decided) continue;
      const at = this.#head + decided - this.#headSeq;
      out.push(this.#held[at]!);
      this.#held[at] = null;
      this.#holes++;
    }
    this.#trim();
    return out;
  }

  /** Drop taken-back jobs at the front: no result will come for them. */
  #trim(): void {
    const held = this.#held;
    while (this.#head < held.length && held[this.#head] === null) {
      held[this.#head++] = undefined;
      this.#headSeq++;
      this.#holes--;
    }
    if (this.#head === held.length && this.#head > 0) {
      this.#held = [];
      this.#head = 0;
    }
  }
}

// Stand-in pool workers for the scheduler's unit tests: no thread, the test plays the
// worker. Each records what the scheduler posts and answers with the messages a real pool
// worker sends (ready, done), so a test can drive any order of events, or give a wrong one.
import type { WorkerHandle } from "../../_runtime/types.ts";
import {
  CLAIM_OFFSET,
  type FromWorker,
  JOB_FIELDS,
  RESULT_FIELDS,
  type RunMessage,
  SPAN,
  type ToWorker,
  type WorkerPayload,
} from "../../pool/_protocol.ts";
import type { WorkerChild } from "../../pool/_worker_slot.ts";

/** One job as a worker receives it. */
export interface PostedJob {
  id: number;
  fnId: number;
  mode: number;
  payload: unknown;
}

/** A worker played by the test. */
export class FakeWorker implements WorkerChild {
  readonly ident: number;
  readonly name: string;
  readonly handle: WorkerHandle;
  readonly exited: Promise<number>;
  /** Every message the scheduler posted, in order. */
  readonly posted: ToWorker[] = [];
  /** Exit code passed to stop(), or null. */
  stoppedWith: number | null = null;
  #onMessage: ((message: unknown) => void) | null = null;
  #exit!: (code: number) => void;
  #exitCode: number | null = null;
  readonly #status: SharedArrayBuffer | undefined;

  constructor(ident: number, name: string, status?: SharedArrayBuffer) {
    this.ident = ident;
    this.name = name;
    this.#status = status;
    let onExit: ((code: number) => void) | null = null;
    this.exited = new Promise((resolve) => {
      this.#exit = (code) => {
        if (this.#exitCode !== null) return;
        this.#exitCode = code;
        resolve(code);
        onExit?.(code);
      };
    });
    this.handle = {
      post: (message) => this.posted.push(message as ToWorker),
      onMessage: (listener) => this.#onMessage = listener,
      onExit: (listener) => onExit = listener,
      onError: () => {},
      terminate: () => {
        this.exit(1);
        return Promise.resolve();
      },
      ref: () => {},
      unref: () => {},
    };
  }

  stop(code: number): Promise<number> {
    this.stoppedWith ??= code;
    queueMicrotask(() => this.#exit(code));
    return this.exited;
  }

  /** End the worker as if its thread exited with `code`. */
  exit(code: number): void {
    queueMicrotask(() => this.#exit(code));
  }

  /** Claim every job posted so far on the status block, as a worker does when it begins each. */
  claimAll(): void {
    Atomics.store(new Int32Array(this.#status!, CLAIM_OFFSET, 1), 0, this.jobs().length);
  }

  /** Send the scheduler a message from this worker. */
  send(message: FromWorker): void {
    this.#onMessage!(message);
  }

  /** The jobs posted so far, in order. */
  jobs(): PostedJob[] {
    const out: PostedJob[] = [];
    for (const message of this.posted) {
      if (message.t !== "run") continue;
      const jobs = (message as RunMessage).jobs;
      for (let i = 0; i < jobs.length; i += JOB_FIELDS) {
        const id = jobs[i] as number;
        const fnId = jobs[i + 1] as number;
        const mode = jobs[i + 2] as number;
        if ((mode & SPAN) === 0) {
          out.push({ id, fnId, mode, payload: jobs[i + 3] });
          continue;
        }
        // A span record stands for one job per argument, ids counting up (see SPAN).
        const args = jobs[i + 3] as unknown[];
        for (let k = 0; k < args.length; k++) out.push({ id: id + k, fnId, mode: mode & ~SPAN, payload: args[k] });
      }
    }
    return out;
  }

  /** Answer `jobs` with `value(job)` each, in one message. */
  answer(jobs: PostedJob[], value: (job: PostedJob) => unknown = (job) => job.payload): void {
    const results: unknown[] = [];
    for (const job of jobs) results.push(job.id, 0, value(job));
    if (results.length % RESULT_FIELDS !== 0) throw new Error("bad result layout");
    this.send({ t: "done", results, ms: 0 });
  }
}

/** A spawn function for SchedulerOptions that records the workers it makes. */
export function fakeSpawner(): {
  workers: FakeWorker[];
  spawn: (name: string, payload?: WorkerPayload) => FakeWorker;
} {
  const workers: FakeWorker[] = [];
  return {
    workers,
    spawn(name: string, payload?: WorkerPayload) {
      const worker = new FakeWorker(1_000_000 + workers.length, name, payload?.status);
      workers.push(worker);
      return worker;
    },
  };
}

/** Let queued microtasks (the scheduler's pump, fake exits) run. */
export function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

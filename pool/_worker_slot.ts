// One record per pool worker: its child, the tasks it holds in the order it runs them,
// which functions it already knows, and how many tasks it was given (maxTasksPerChild).
import type { Child } from "../_internal/worker_parent.ts";
import { BELL_OFFSET, type ToWorker } from "./_protocol.ts";
import type { Task } from "./_task.ts";

/** Started; the initializer may still be running. */
export const STARTING = 0;
/** The initializer ran. */
export const READY = 1;
/** Asked to exit once it has finished what it holds. */
export const RETIRING = 2;
/** Stopped on purpose (abort of its running task, or terminate). */
export const STOPPING = 3;

/** A pool worker as the scheduler sees it. */
export class WorkerSlot {
  readonly child: Child;
  readonly name: string;
  /** The worker's status block: the id of the task it runs, or -1. */
  readonly current: Float64Array;
  state: number = STARTING;
  /** Tasks given to the worker over its life, for maxTasksPerChild. */
  assigned = 0;
  /** Why the worker failed to start, when it says so before exiting. */
  bootError: Error | null = null;
  /** Function ids this worker has been told about. */
  readonly known: boolean[] = [];
  #held: (Task | undefined)[] = [];
  #head = 0;
  readonly #bell: Int32Array;

  constructor(child: Child, name: string, current: Float64Array) {
    this.child = child;
    this.name = name;
    this.current = current;
    this.#bell = new Int32Array(current.buffer, BELL_OFFSET, 1);
  }

  /** Send the worker a message and count it on the worker's bell. */
  post(message: ToWorker): void {
    this.child.handle.post(message);
    Atomics.add(this.#bell, 0, 1);
  }

  /** Number of tasks the worker holds (running or next in line). */
  get load(): number {
    return this.#held.length - this.#head;
  }

  /** Record a task posted to this worker. */
  hold(task: Task): void {
    this.#held.push(task);
  }

  /** Take the oldest task held, whose result the worker just sent. */
  release(): Task | undefined {
    const task = this.#held[this.#head];
    if (task === undefined) return undefined;
    this.#held[this.#head++] = undefined;
    if (this.#head === this.#held.length) {
      this.#held = [];
      this.#head = 0;
    }
    return task;
  }

  /** Take every task still held, oldest first. */
  releaseAll(): Task[] {
    const out = this.#held.slice(this.#head) as Task[];
    this.#held = [];
    this.#head = 0;
    return out;
  }

  /** Whether `task` is the one this worker is running now. */
  isRunning(task: Task): boolean {
    return this.current[0] === task.id;
  }
}

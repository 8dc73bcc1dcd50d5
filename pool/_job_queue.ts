// Pending jobs in FIFO order. Removal is O(1): a job that leaves the queue early (aborted,
// cancelled) changes state and is skipped when it reaches the head.
import { type Job, QUEUED } from "./_job.ts";

/** FIFO of jobs waiting for a worker. */
export class JobQueue {
  #items: (Job | undefined)[] = [];
  #head = 0;
  #size = 0;

  /** Jobs still waiting. */
  get size(): number {
    return this.#size;
  }

  /** Append a job. */
  push(job: Job): void {
    this.#items.push(job);
    this.#size++;
  }

  /** Put jobs back at the front, in the order given (a dead worker's unstarted jobs). */
  unshift(jobs: Job[]): void {
    if (jobs.length === 0) return;
    const rest = this.#items.slice(this.#head);
    this.#items = [...jobs, ...rest];
    this.#head = 0;
    this.#size += jobs.length;
    for (const job of jobs) job.state = QUEUED;
  }

  /** The first waiting job, without removing it. */
  peek(): Job | undefined {
    this.#skip();
    return this.#items[this.#head];
  }

  /** Remove and return the first waiting job. */
  shift(): Job | undefined {
    this.#skip();
    const job = this.#items[this.#head];
    if (job === undefined) return undefined;
    this.#items[this.#head++] = undefined;
    this.#size--;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return job;
  }

  /** Account for a queued job that left early; the caller changes its state first. */
  removed(): void {
    this.#size--;
  }

  /** Remove and return every waiting job. */
  drain(): Job[] {
    const out: Job[] = [];
    for (let job = this.shift(); job !== undefined; job = this.shift()) out.push(job);
    return out;
  }

  #skip(): void {
    const items = this.#items;
    while (this.#head < items.length && items[this.#head]!.state !== QUEUED) items[this.#head++] = undefined;
    if (this.#head === items.length && this.#head > 0) {
      this.#items = [];
      this.#head = 0;
    }
  }
}

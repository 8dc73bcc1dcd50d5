// Pending tasks in FIFO order. Removal is O(1): a task that leaves the queue early (aborted,
// cancelled) changes state and is skipped when it reaches the head.
import { QUEUED, type Task } from "./_task.ts";

/** FIFO of tasks waiting for a worker. */
export class TaskQueue {
  #items: (Task | undefined)[] = [];
  #head = 0;
  #size = 0;

  /** Tasks still waiting. */
  get size(): number {
    return this.#size;
  }

  /** Append a task. */
  push(task: Task): void {
    this.#items.push(task);
    this.#size++;
  }

  /** Put tasks back at the front, in the order given (a dead worker's unstarted tasks). */
  unshift(tasks: Task[]): void {
    const rest = this.#items.slice(this.#head);
    this.#items = [...tasks, ...rest];
    this.#head = 0;
    this.#size += tasks.length;
    for (const task of tasks) task.state = QUEUED;
  }

  /** The first waiting task, without removing it. */
  peek(): Task | undefined {
    this.#skip();
    return this.#items[this.#head];
  }

  /** Remove and return the first waiting task. */
  shift(): Task | undefined {
    this.#skip();
    const task = this.#items[this.#head];
    if (task === undefined) return undefined;
    this.#items[this.#head++] = undefined;
    this.#size--;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return task;
  }

  /** Account for a queued task that left early; the caller changes its state first. */
  removed(): void {
    this.#size--;
  }

  /** Remove and return every waiting task. */
  drain(): Task[] {
    const out: Task[] = [];
    for (let task = this.shift(); task !== undefined; task = this.shift()) out.push(task);
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

// Targets for the process-context queue tests: each runs in an OS child and talks to the
// test only through the queues it was given.
import process from "node:process";

interface Q<T> {
  put(item: T): Promise<void>;
  get(options?: { timeout?: number; signal?: AbortSignal }): Promise<T>;
  [Symbol.asyncIterator](): AsyncIterator<T>;
}

/** Put `n` numbers from `from`, in order. */
export async function putRange(queue: Q<number>, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) await queue.put(i);
}

/** Take `n` items from `queue` and put them, as one list, on `out`. */
export async function takeN(queue: Q<number>, n: number, out: Q<number[]>): Promise<void> {
  const got: number[] = [];
  for (let i = 0; i < n; i++) got.push(await queue.get());
  await out.put(got);
}

/** Take items until the queue is closed and empty, then put what it took on `out`. */
export async function drain(queue: Q<number>, out: Q<number[]>): Promise<void> {
  const got: number[] = [];
  for await (const item of queue) got.push(item);
  await out.put(got);
}

/** Put `n` numbers on a bounded queue, reporting on `progress` after each put returned. */
export async function putReporting(queue: Q<number>, n: number, progress: Q<number>): Promise<void> {
  for (let i = 0; i < n; i++) {
    await queue.put(i);
    await progress.put(i);
  }
}

/** Report this pid, then put numbers from 0 until killed. */
export async function putForever(queue: Q<number>, pid: Q<number>): Promise<void> {
  await pid.put(process.pid);
  for (let i = 0;; i++) await queue.put(i);
}

/** A get aborted at once: report the item if the get won the race, else "aborted". */
export async function abortedGet(queue: Q<string>, out: Q<string>): Promise<void> {
  const controller = new AbortController();
  const pending = queue.get({ signal: controller.signal });
  controller.abort(new Error("stop"));
  try {
    await out.put(`got ${await pending}`);
  } catch (error) {
    await out.put((error as Error).message === "stop" ? "aborted" : `failed ${(error as Error).message}`);
  }
}

/** A get with a timeout from an empty queue: report the error. */
export async function timedGet(queue: Q<string>, out: Q<string>): Promise<void> {
  try {
    await out.put(`got ${await queue.get({ timeout: 50 })}`);
  } catch (error) {
    await out.put(`${(error as Error).name}: ${(error as Error).message}`);
  }
}

/** Take `n` jobs, mark each done. */
export async function doJobs(jobs: Q<number> & { taskDone(): Promise<void> }, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await jobs.get();
    await jobs.taskDone();
  }
}

/** Try Sync twins in an OS child: report the errors' names and messages. */
export async function syncTwins(queue: Q<number> & { getSync(): number; qsizeSync(): number }, out: Q<string>) {
  for (const call of [() => queue.getSync(), () => queue.qsizeSync()]) {
    try {
      call();
      await out.put("no error");
    } catch (error) {
      await out.put(`${(error as Error).name}: ${(error as Error).message}`);
    }
  }
}

/** Values of every kind the queues carry, made the same way in the test and in a child. */
export function values(): unknown[] {
  return [
    1.5,
    -0,
    NaN,
    "short",
    "long ".repeat(40),
    "ünïcødé ✓",
    { a: [1, { b: "c" }] },
    new Float64Array([4.5, 6]),
    null,
    undefined,
    true,
    false,
    2n ** 70n,
    new Map([[1, "x"]]),
  ];
}

/** Put {@linkcode values} on `queue`, then take as many from `back` and put them on `queue` again. */
export async function putValues(queue: Q<unknown>, back: Q<unknown>): Promise<void> {
  for (const v of values()) await queue.put(v);
  for (let i = 0; i < values().length; i++) await queue.put(await back.get());
}

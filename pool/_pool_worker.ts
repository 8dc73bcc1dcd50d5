// Entry of every pool worker: run the initializer once, then run tasks in the order they
// arrive, one at a time, as Python's worker() loop does. Tasks come in batches; results go
// back in batches, flushed when a batch is done, every FLUSH_EVERY results or FLUSH_MS
// (so the parent refills the window before this worker runs dry), before an async task
// waits, and before the thread exits (so exit(n) loses no finished result). The same
// entry runs in a worker thread or, with the "process" start method, in an OS child
// process that hears from its parent over the IPC channel.
import { errorToRecord, recordToError } from "../_internal/error_record.ts";
import { enterProcess } from "../_internal/process_child.ts";
import { decode } from "../_internal/shareable.ts";
import {
  beforeExit,
  endThread,
  enterChild,
  loadTask,
  printCrash,
  type TaskFunction,
} from "../_internal/worker_child.ts";
import { type ParentPort, runtime } from "../_runtime/mod.ts";
import { MaybeEncodingError } from "../errors.ts";
import { fromWire, PACK_MIN } from "./_pack.ts";
import {
  BELL_OFFSET,
  CLAIM_OFFSET,
  DONE_SPAN,
  type FromWorker,
  JOB_FIELDS,
  MAP,
  MODE_MASK,
  ONE,
  PROGRESS,
  REPORT_START,
  RESULT_FIELDS,
  SPAN,
  STARMAP,
  STATUS_BYTES,
  STREAM,
  type ToWorker,
  type WorkerPayload,
} from "./_protocol.ts";
import { activeTask, enterTask, leaveTask, type RunningTask } from "./_task_context.ts";

type Fn = TaskFunction;

const FLUSH_EVERY = 512;
const FLUSH_MS = 2;

const entered = runtime.isMainThread ? await enterProcess<WorkerPayload>(true) : enterChild<WorkerPayload>();
if (entered === null) {
  throw new Error("Cannot run a pool worker: this program was not started by @mproc/multiprocessing");
}
const { payload, port } = entered;
// An OS child keeps a status block of its own: nobody else reads it.
const status = payload.status ?? new SharedArrayBuffer(STATUS_BYTES);
const current = new Float64Array(status, 0, 1);
current[0] = -1;
const bell = new Int32Array(status, BELL_OFFSET, 1);
const claim = new Int32Array(status, CLAIM_OFFSET, 1);
/** Jobs taken from the queue so far, run or skipped: the number of the next one. */
let taken = 0;
const pollable = "pollable" in port && port.pollable;
/** Over an IPC channel, the last message sent: it must leave before the process does. */
let sending: Promise<void> | undefined;
/** Messages taken in so far, to compare with the parent's count on the bell. */
let received = 0;

const modules = new Map<string, Promise<Record<string, unknown>>>();
const fnRefs: { module: string; name: string }[] = [];
const fns: (Fn | undefined)[] = [];
const queue: unknown[] = [];
let head = 0;
let draining = false;
let retiring = false;
let results: unknown[] = [];
/** Where in `results` the record of the last job sits while it succeeded, else -1. */
let lastOk = -1;
/** The id a job must have to join the record at `lastOk` (see DONE_SPAN). */
let nextOk = -1;
/**
 * Buffers of the packed chunk results in `results`, handed over rather than copied; a
 * thread only (an OS child's channel copies everything).
 */
let transfer: ArrayBuffer[] = [];
const canTransfer = !runtime.isMainThread;
/**
 * Per result since the last flush, for the pool's stats (see DoneMessage.times): its run
 * time in whole µs, then its start, which flush() turns into µs before the flush. Whole
 * numbers travel and arrive as small integers, not as boxed doubles.
 */
let times: number[] = [];
/** The function of each result in `results`, to name it when the result cannot be sent. */
let resultFns: number[] = [];
let busyMs = 0;
let flushedAt = 0;
/** When the last task ended (or the drain began): one clock read per task, not two. */
let lastNow = 0;
/** How many yields in all each stream job may have sent: the parent's latest credit. */
const credits = new Map<number, number>();
/** Stream jobs whose consumer left. */
const stops = new Set<number>();
/** Wakes the running stream when a credit or a stop arrives. */
let wakeStream: (() => void) | null = null;

function post(message: FromWorker, transferList?: ArrayBuffer[]): void {
  const sent = transferList === undefined ? port.post(message) : (port as ParentPort).post(message, transferList);
  // A send that fails later means the parent is gone, and this process goes with it.
  if (sent instanceof Promise) sending = sent.catch(() => {});
}

/** End this worker once what it sent has left. */
async function end(code: number): Promise<never> {
  await sending;
  return endThread(code);
}

/** Result records with each span (see DONE_SPAN) spelled out, one record per job. */
function singles(records: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < records.length; i += RESULT_FIELDS) {
    if (records[i + 1] !== DONE_SPAN) {
      out.push(records[i], records[i + 1], records[i + 2]);
      continue;
    }
    const values = records[i + 2] as unknown[];
    for (let k = 0; k < values.length; k++) out.push((records[i] as number) + k, 0, values[k]);
  }
  return out;
}

/** Record the value of job `id`, in the record of the job before it when that one succeeded. */
function succeeded(id: number, value: unknown): void {
  if (lastOk !== -1 && id === nextOk) {
    if (results[lastOk + 1] === DONE_SPAN) (results[lastOk + 2] as unknown[]).push(value);
    else {
      results[lastOk + 1] = DONE_SPAN;
      results[lastOk + 2] = [results[lastOk + 2], value];
    }
  } else {
    lastOk = results.length;
    results.push(id, 0, value);
  }
  nextOk = id + 1;
}

function flush(): void {
  if (results.length === 0) return;
  const sent = results;
  const sentFns = resultFns;
  const ms = busyMs;
  const moved = transfer;
  const spans = times;
  for (let k = 1; k < spans.length; k += 2) spans[k] = Math.round((lastNow - spans[k]) * 1000);
  results = [];
  lastOk = -1;
  transfer = [];
  times = [];
  resultFns = [];
  busyMs = 0;
  flushedAt = lastNow;
  const heap = payload.measureHeap === true ? runtime.heapUsed() : undefined;
  try {
    post(
      { t: "done", results: sent, ms, times: spans, heap },
      moved.length > 0 ? moved : undefined,
    );
  } catch {
    // Some result cannot be cloned: send the others, and an error in place of each bad one.
    const out = singles(sent);
    for (let i = 0; i < out.length; i += RESULT_FIELDS) {
      const one = [out[i], out[i + 1], out[i + 2]];
      const k = (2 * i) / RESULT_FIELDS;
      const span = { times: [spans[k], spans[k + 1]] };
      try {
        post({ t: "done", results: one, ms: 0, ...span });
      } catch (cause) {
        const name = fnRefs[sentFns[i / RESULT_FIELDS]]?.name ?? "?";
        const error = new MaybeEncodingError(
          `Cannot send back the result of task "${name}": it cannot be copied to the caller (${
            (cause as Error)?.message ?? cause
          }); return plain data (no functions, symbols or objects holding them)`,
          name,
          { cause },
        );
        post({ t: "done", results: [out[i], 1, errorToRecord(error)], ms: 0, ...span });
      }
    }
  }
}

function loadModule(module: string): Promise<Record<string, unknown>> {
  let loaded = modules.get(module);
  if (loaded === undefined) modules.set(module, loaded = runtime.importModule(module));
  return loaded;
}

function resolve(ref: { module: string; name: string }): Promise<Fn> {
  return loadTask(ref, loadModule);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function")
    && typeof (value as PromiseLike<unknown>).then === "function";
}

// Synchronous while the function is, so a chunk of plain calls never waits a tick. The
// task's index follows the item being run. An abort is heard only while a task awaits, so
// only finishChunk checks for one between items.
function runChunk(
  fn: Fn,
  items: ArrayLike<unknown>,
  spread: boolean,
  task: RunningTask,
): unknown[] | Promise<unknown[]> {
  if (!spread && items.length >= PACK_MIN) return runPacked(fn, items, task);
  const out = new Array(items.length);
  const first = task.index;
  for (let i = 0; i < items.length; i++) {
    task.index = first + i;
    const value = spread ? fn(...(items[i] as unknown[])) : fn(items[i]);
    if (isThenable(value)) return finishChunk(fn, items, spread, task, out, i, value);
    out[i] = value;
  }
  return out;
}

/**
 * Results packed into a Float64Array while every one is a number (see _pack.ts); the first
 * that is not moves them to a plain array.
 */
function runPacked(fn: Fn, items: ArrayLike<unknown>, task: RunningTask): unknown[] | Promise<unknown[]> {
  const n = items.length;
  const packed = new Float64Array(n);
  const first = task.index;
  for (let i = 0; i < n; i++) {
    task.index = first + i;
    const value = fn(items[i]);
    if (typeof value !== "number") {
      const out = new Array(n);
      for (let j = 0; j < i; j++) out[j] = packed[j];
      if (isThenable(value)) return finishChunk(fn, items, false, task, out, i, value);
      out[i] = value;
      for (i++; i < n; i++) {
        task.index = first + i;
        const next = fn(items[i]);
        if (isThenable(next)) return finishChunk(fn, items, false, task, out, i, next);
        out[i] = next;
      }
      return out;
    }
    packed[i] = value;
  }
  return packed as unknown as unknown[];
}

async function finishChunk(
  fn: Fn,
  items: ArrayLike<unknown>,
  spread: boolean,
  task: RunningTask,
  out: unknown[],
  at: number,
  pending: PromiseLike<unknown>,
): Promise<unknown[]> {
  out[at] = await pending;
  const first = task.index - at;
  for (let i = at + 1; i < items.length; i++) {
    if (task.aborted) throw task.reason;
    task.index = first + i;
    out[i] = await (spread ? fn(...(items[i] as unknown[])) : fn(items[i]));
  }
  return out;
}

/** The iterator of what a stream task returned: a generator, sync or async. */
function iteratorOf(made: unknown, name: string): Iterator<unknown> | AsyncIterator<unknown> {
  if (made !== null && typeof made === "object") {
    const iterable = made as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
    if (typeof iterable[Symbol.asyncIterator] === "function") return iterable[Symbol.asyncIterator]!();
    if (typeof iterable[Symbol.iterator] === "function") return iterable[Symbol.iterator]!();
  }
  throw new TypeError(
    `Cannot stream task "${name}": it returned ${
      made === null ? "null" : typeof made
    }, not a generator; write it as \`async function*\` or \`function*\``,
  );
}

/**
 * Run stream job `id`: send each yield as it comes, but never more than the parent's
 * credit allows (back-pressure: a slow consumer holds the generator at a yield), and end
 * the generator early when the consumer leaves. Returns the generator's return value.
 */
async function runStream(id: number, fnId: number, fn: Fn, args: unknown[]): Promise<unknown> {
  // The first credit (the high-water mark) travels as the last argument.
  credits.set(id, args.pop() as number);
  const name = fnRefs[fnId].name;
  let made = fn(...args);
  if (isThenable(made)) made = await made;
  const iterator = iteratorOf(made, name);
  // A caller that gives up (signal, timeout) ends the generator as a consumer that leaves does.
  const task = activeTask()!;
  const onAbort = () => wakeStream?.();
  task.signal.addEventListener("abort", onAbort);
  let sent = 0;
  try {
    for (;;) {
      while (!stops.has(id) && !task.aborted && sent >= credits.get(id)!) {
        await new Promise<void>((resolve) => wakeStream = resolve);
      }
      if (stops.has(id) || task.aborted) {
        await iterator.return?.();
        return undefined;
      }
      const step = await iterator.next();
      if (step.done) return step.value;
      const value = isThenable(step.value) ? await step.value : step.value;
      try {
        post({ t: "yield", id, value });
      } catch (cause) {
        await iterator.return?.();
        throw new TypeError(
          `Cannot stream task "${name}": its yield number ${sent} cannot be copied to the parent: ${
            (cause as Error)?.message ?? cause
          }`,
          { cause },
        );
      }
      sent++;
    }
  } finally {
    task.signal.removeEventListener("abort", onAbort);
    credits.delete(id);
    stops.delete(id);
    wakeStream = null;
  }
}

/** How reportProgress() sends a value for the running task, when its caller listens. */
function report(value: unknown): void {
  const task = activeTask()!;
  try {
    post({ t: "progress", id: task.id, index: task.index, value });
  } catch (cause) {
    throw new TypeError(
      `Cannot report progress: the value cannot be copied to the parent: ${(cause as Error)?.message ?? cause}`,
      { cause },
    );
  }
}

// After its queue runs dry a worker spins this long on its inbox before it sleeps: a
// reply to the parent is often followed at once by the next task (a loop of `apply`
// calls), and a spinning hand-off takes microseconds where waking a sleeping thread takes
// tens of them. Bounded, so an idle worker costs at most this much CPU per batch.
const SPIN_MS = 0.1;
/** While spins find nothing, one in this many idle turns still spins in full, to notice when they would pay again. */
const SPIN_PROBE = 32;
/**
 * How long the next spin may take. A spin pays only when the parent answers within it: a
 * caller that does other work between tasks, or a parent waiting for a core on a busy
 * machine, would have the worker burn its full spin after every task for nothing. So it
 * adapts: full after a spin that caught a message, halved after one that did not, down to
 * none.
 */
let spinBudget = SPIN_MS;
let spinsSkipped = 0;

/**
 * Take the next message from the inbox within the spin budget; whether one came. Without
 * a pollable inbox, spin on the bell instead and return to the event loop as soon as the
 * parent has posted something: the thread is still awake, so the message is delivered
 * without a wake-up.
 */
function spinForMore(): boolean {
  let budget = spinBudget;
  if (budget === 0) {
    if (++spinsSkipped < SPIN_PROBE) return false;
    spinsSkipped = 0;
    budget = SPIN_MS;
  }
  const caught = spin(performance.now() + budget);
  spinBudget = caught ? SPIN_MS : spinBudget > SPIN_MS / 8 ? spinBudget / 2 : 0;
  return caught && pollable;
}

/** Spin until `until` for a message (see spinForMore); whether one came. */
function spin(until: number): boolean {
  if (!pollable) {
    while (Atomics.load(bell, 0) === received) if (performance.now() >= until) return false;
    return true;
  }
  do {
    const message = (port as { receive(): unknown }).receive();
    if (message !== undefined) {
      accept(message as ToWorker);
      return true;
    }
  } while (performance.now() < until);
  return false;
}

async function drain(): Promise<void> {
  draining = true;
  lastNow = performance.now();
  do {
    await runQueue();
    flush();
    // Deno may deliver a message between the end of runQueue and here: check the queue
    // before polling for more.
  } while (!retiring && (head < queue.length || spinForMore()));
  draining = false;
  if (retiring) await end(0);
}

/** Claim the next job (see CLAIM_OFFSET); false when the parent took it back first. */
function claimNext(): boolean {
  const n = taken++;
  for (;;) {
    // Never below n: every earlier job was decided, by this worker or by the parent.
    if (Atomics.load(claim, 0) > n) return false;
    if (Atomics.compareExchange(claim, 0, n, n + 1) === n) return true;
  }
}

async function runQueue(): Promise<void> {
  while (head < queue.length) {
    const id = queue[head] as number;
    const fnId = queue[head + 1] as number;
    const code = queue[head + 2] as number;
    let args = queue[head + 3];
    const refs = queue[head + 4];
    const index = queue[head + 5] as number;
    for (let i = 0; i < JOB_FIELDS; i++) queue[head + i] = undefined;
    head += JOB_FIELDS;
    // The parent took it back for an idle worker: it runs there, not here, and sends nothing.
    if (!claimNext()) continue;
    current[0] = id;
    const task = enterTask(id, index);
    const mode = code & MODE_MASK;
    if ((code & REPORT_START) !== 0) post({ t: "started", id });
    task.progress = (code & PROGRESS) !== 0 ? report : undefined;
    try {
      const fn = fns[fnId] ?? (fns[fnId] = await resolve(fnRefs[fnId]));
      if (refs !== 0) args = await decode({ value: args, refs: refs as never });
      // Aborted while its function loaded: it need not start at all.
      if (task.aborted) throw task.reason;
      let value: unknown;
      if (mode === MAP || mode === STARMAP) {
        value = runChunk(fn, (mode === MAP ? fromWire(args) : args) as unknown[], mode === STARMAP, task);
      } else if (mode === STREAM) {
        value = runStream(id, fnId, fn, args as unknown[]);
      } else if (mode === ONE) {
        value = fn(args);
      } else {
        value = fn(...(args as unknown[]));
      }
      if (isThenable(value)) {
        flush();
        value = await value;
      }
      if (mode === MAP && value instanceof Float64Array) {
        value = value.buffer;
        if (canTransfer) transfer.push(value as ArrayBuffer);
      }
      succeeded(id, value);
    } catch (error) {
      results.push(id, 1, errorToRecord(error));
      lastOk = -1;
    }
    leaveTask();
    resultFns.push(fnId);
    const now = performance.now();
    busyMs += now - lastNow;
    times.push(Math.round((now - lastNow) * 1000), lastNow);
    lastNow = now;
    current[0] = -1;
    if (resultFns.length >= FLUSH_EVERY || now - flushedAt >= FLUSH_MS) flush();
  }
  queue.length = 0;
  head = 0;
}

/** Whether job `id` waits in this worker's queue, not yet begun. */
function isQueued(id: number): boolean {
  for (let i = head; i < queue.length; i += JOB_FIELDS) if (queue[i] === id) return true;
  return false;
}

/** Queue what a message brings, without starting to run it. */
function accept(message: ToWorker): void {
  received++;
  if (message.t === "run") {
    const defs = message.fns;
    for (let i = 0; i < defs.length; i += 3) {
      fnRefs[defs[i] as number] = { module: defs[i + 1] as string, name: defs[i + 2] as string };
    }
    const jobs = message.jobs;
    for (let i = 0; i < jobs.length; i += JOB_FIELDS) {
      const code = jobs[i + 2] as number;
      if ((code & SPAN) === 0) {
        queue.push(jobs[i], jobs[i + 1], code, jobs[i + 3], jobs[i + 4], jobs[i + 5]);
        continue;
      }
      // A span: one job per argument, with ids and input indexes counting up.
      const id = jobs[i] as number;
      const fnId = jobs[i + 1];
      const args = jobs[i + 3] as unknown[];
      const index = jobs[i + 5] as number;
      const one = code & ~SPAN;
      for (let k = 0; k < args.length; k++) queue.push(id + k, fnId, one, args[k], 0, index + k);
    }
  } else if (message.t === "abort") {
    // A job that already ended, or was never begun here, has nothing to stop.
    const task = activeTask();
    const record = message.reason;
    if (task?.id === message.id) task.abort("value" in record ? record.value : recordToError(record));
  } else if (message.t === "retire") {
    retiring = true;
  } else if (message.t === "credit") {
    // A credit for a stream that has ended is late news.
    if (credits.has(message.id)) credits.set(message.id, message.upTo);
    wakeStream?.();
  } else if (message.t === "stop") {
    // Kept only for a stream running or still queued here: one that has ended is late news.
    if (current[0] === message.id || isQueued(message.id)) stops.add(message.id);
    wakeStream?.();
  }
}

function onMessage(message: ToWorker): void {
  accept(message);
  if (!draining) void drain();
}

async function boot(): Promise<void> {
  // Tasks may arrive before the initializer has finished; they wait for it.
  const pending: ToWorker[] = [];
  let booted = false;
  port.onMessage((message) => {
    if (booted) onMessage(message as ToWorker);
    else pending.push(message as ToWorker);
  });
  try {
    const init = payload.initializer;
    if (init !== null) {
      const fn = await resolve(init);
      const args = await decode(payload.initargs) as unknown[];
      await fn(...args);
    }
  } catch (error) {
    post({ t: "bootFailed", error: errorToRecord(error) });
    await end(1);
  }
  post({ t: "ready" });
  booted = true;
  for (const message of pending.splice(0)) onMessage(message);
}

beforeExit(flush);
runtime.onUncaught((error) => {
  printCrash(errorToRecord(error));
  endThread(1);
});

void boot();

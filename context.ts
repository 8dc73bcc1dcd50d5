/**
 * Start methods behind a context, like Python's `multiprocessing.get_context()`: one
 * object per start method holding the constructors that work with it.
 *
 * - `"thread"` (the default): processes are worker threads of this OS process. Everything
 *   works: pools, and locks that cross to children as live objects over shared memory.
 * - `"process"`: processes are OS child processes running the same runtime, so a crash,
 *   `process.abort()` or a runaway allocation in one takes nothing else down. They share
 *   no memory: locks and other shared-memory objects cannot be passed to them (a
 *   `TypeError` names the argument). This context offers `Process`, `Pool`,
 *   `ProcessPoolExecutor`, the functions about the process tree, `Queue`, `SimpleQueue`
 *   and `JoinableQueue` (async factories) and `Pipe`.
 *
 * The process context's queues ({@linkcode ProcessQueue}) are served by the thread that
 * made them, on the Unix socket it serves its pipes on (see below): the items wait there,
 * any number of producers and consumers in any processes of the program reach them, and
 * EOF, closed semantics and errors are the thread context's queues'. The maker's own puts
 * and gets are plain calls; another process's put of an unbounded queue is sent without
 * waiting for an answer (a request follows each round trip's puts, so they are in the
 * queue by the time that process ends), a bounded queue's put asks for room, and a get
 * asks for one item. Why not a Manager, which served them before: each put and get was a
 * round trip through its server, which capped a child's stream to the parent at a few
 * thousand items a second. A thread cannot block on a socket, so the `Sync` twins throw a
 * `TypeError` outside the maker's thread (`putSync` of an unbounded queue, which never
 * waits, works everywhere) and in it when they would have to wait. A queue lives as long
 * as the process that made it.
 *
 * `Pipe()` gives two connections that work between OS processes, with the thread pipe's
 * methods, EOF and closed semantics. The process that makes a pipe serves it on a Unix
 * socket in a private temporary directory (only this user may connect) and keeps the
 * items until a reader asks for one, so any handle of an end may read, a send waits only
 * while the pipe holds `bytes` unread from its handle, and a process that ends, however
 * it ends, closes its handles. Why not a Manager: its round trips cap a stream at the
 * Manager's call rate, while a pipe's sends need no answer and its maker reads in its own
 * thread. A pipe lives as long as the process that made it. Receives are async only.
 *
 * `setStartMethod()` and `getStartMethod()` choose and read the start method of a
 * `Process` created without one.
 *
 * @example Usage
 * ```ts
 * import { getContext, taskModule } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const tasks = taskModule<typeof import("./tests/testdata/tasks.ts")>(new URL("./tests/testdata/tasks.ts", import.meta.url));
 * const ctx = getContext("process");
 * const p = new ctx.Process({ target: tasks.exitWith, args: [3] });
 * p.start();
 * await p.join();
 * assert.equal(p.exitCode, 3);
 * ```
 *
 * @module
 */
import {
  type ProcessConnection,
  type ProcessJoinableQueue,
  processPipe,
  type ProcessPipeOptions,
  type ProcessQueue,
  processQueue,
} from "./ipc/mod.ts";
import { Pool, type PoolOptions, ProcessPoolExecutor, type ProcessPoolExecutorOptions } from "./pool/mod.ts";
import {
  activeChildren,
  cpuCount,
  currentProcess,
  getStartMethod,
  parentProcess,
  Process,
  type ProcessOptions,
  type StartMethod,
} from "./process/mod.ts";
import { Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, RWLock, Semaphore } from "./sync/mod.ts";
import type { AnyFunction } from "./task.ts";

/** What every context offers, whatever its start method. */
export interface BaseContext {
  /** The start method of this context. */
  readonly startMethod: StartMethod;
  /** {@linkcode Process}, started with this context's start method. */
  readonly Process: typeof Process;
  /** {@linkcode currentProcess}. */
  readonly currentProcess: typeof currentProcess;
  /** {@linkcode parentProcess}. */
  readonly parentProcess: typeof parentProcess;
  /** {@linkcode activeChildren}. */
  readonly activeChildren: typeof activeChildren;
  /** {@linkcode cpuCount}. */
  readonly cpuCount: typeof cpuCount;
  /** {@linkcode Pool}, its workers started with this context's start method. */
  readonly Pool: typeof Pool;
  /** {@linkcode ProcessPoolExecutor}, its workers started with this context's start method. */
  readonly ProcessPoolExecutor: typeof ProcessPoolExecutor;
}

/** The `"thread"` context: worker threads, pools and every lock. */
export interface ThreadContext extends BaseContext {
  /** Always `"thread"`. */
  readonly startMethod: "thread";
  /** {@linkcode Lock}. */
  readonly Lock: typeof Lock;
  /** {@linkcode RLock}. */
  readonly RLock: typeof RLock;
  /** {@linkcode Semaphore}. */
  readonly Semaphore: typeof Semaphore;
  /** {@linkcode BoundedSemaphore}. */
  readonly BoundedSemaphore: typeof BoundedSemaphore;
  /** {@linkcode Condition}. */
  readonly Condition: typeof Condition;
  /** {@linkcode Event}. */
  readonly Event: typeof Event;
  /** {@linkcode Barrier}. */
  readonly Barrier: typeof Barrier;
  /** {@linkcode RWLock}. */
  readonly RWLock: typeof RWLock;
}

/**
 * The `"process"` context: OS child processes. Only what works across OS processes is
 * here; shared-memory locks stay in the thread context.
 */
export interface ProcessContext extends BaseContext {
  /** Always `"process"`. */
  readonly startMethod: "process";
  /**
   * A queue OS children reach when it is passed in `args` or `initargs`: a
   * {@linkcode ProcessQueue} served by this thread (see the module doc). `maxsize` 0 is
   * unbounded.
   */
  readonly Queue: <T = unknown>(options?: { maxsize?: number }) => Promise<ProcessQueue<T>>;
  /** Python's `SimpleQueue` across OS processes: an unbounded {@linkcode ProcessContext.Queue}. */
  readonly SimpleQueue: <T = unknown>() => Promise<ProcessQueue<T>>;
  /** A joinable queue OS children reach, like {@linkcode ProcessContext.Queue}. */
  readonly JoinableQueue: <T = unknown>(options?: { maxsize?: number }) => Promise<ProcessJoinableQueue<T>>;
  /**
   * Python's `Pipe()` across OS processes: two {@linkcode ProcessConnection}s (see the
   * module doc). `duplex: false` gives `[reader, writer]`.
   */
  readonly Pipe: <T = unknown>(options?: ProcessPipeOptions) => [ProcessConnection<T>, ProcessConnection<T>];
}

/** A context of either start method. */
export type Context = ThreadContext | ProcessContext;

function boundProcess(method: StartMethod): typeof Process {
  // Python's ctx.Process is a subclass fixed to its context's start method.
  return class<F extends AnyFunction = AnyFunction> extends Process<F> {
    constructor(options: ProcessOptions<F>) {
      super({ ...options, startMethod: method });
    }
  };
}

function boundPool(startMethod: StartMethod): typeof Pool {
  return class extends Pool {
    constructor(options: PoolOptions = {}) {
      super({ ...options, context: { startMethod } });
    }
  };
}

function boundExecutor(startMethod: StartMethod): typeof ProcessPoolExecutor {
  return class extends ProcessPoolExecutor {
    constructor(options: ProcessPoolExecutorOptions = {}) {
      super({ ...options, context: { startMethod } });
    }
  };
}

// The queues' factories stay async, as when a Manager served them: code written for that
// still works, and a bad option rejects rather than throws.
function settled<Q>(make: () => Q): Promise<Q> {
  try {
    return Promise.resolve(make());
  } catch (error) {
    return Promise.reject(error);
  }
}

const tree = { currentProcess, parentProcess, activeChildren, cpuCount };

const THREAD: ThreadContext = Object.freeze({
  startMethod: "thread",
  Process: boundProcess("thread"),
  ...tree,
  Pool: boundPool("thread"),
  ProcessPoolExecutor: boundExecutor("thread"),
  Lock,
  RLock,
  Semaphore,
  BoundedSemaphore,
  Condition,
  Event,
  Barrier,
  RWLock,
});

const PROCESS: ProcessContext = Object.freeze({
  startMethod: "process",
  Process: boundProcess("process"),
  ...tree,
  Pool: boundPool("process"),
  ProcessPoolExecutor: boundExecutor("process"),
  Queue: <T>(options?: { maxsize?: number }) => settled(() => processQueue<T>({ maxsize: options?.maxsize })),
  SimpleQueue: <T>() => settled(() => processQueue<T>({ what: "simple queue" })),
  JoinableQueue: <T>(options?: { maxsize?: number }) =>
    settled(() => processQueue<T>({ maxsize: options?.maxsize, joinable: true, what: "joinable queue" })),
  Pipe: processPipe,
});

/**
 * The context of a start method, like Python's `multiprocessing.get_context()`; with no
 * argument, the context of the default start method (which fixes the default, as
 * {@linkcode getStartMethod} does).
 *
 * @param method `"thread"` or `"process"`
 * @returns the same object on every call for the same method
 * @throws {RangeError} when `method` names no start method
 *
 * @example Usage
 * ```ts
 * import { getContext } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * assert.equal(getContext("thread").startMethod, "thread");
 * assert.ok(!("Lock" in getContext("process")), "no shared-memory locks across OS processes");
 * ```
 */
export function getContext(method: "thread"): ThreadContext;
/** The context of OS child processes. */
export function getContext(method: "process"): ProcessContext;
/** The context of `method`, or of the default start method. */
export function getContext(method?: StartMethod): Context;
export function getContext(method?: StartMethod): Context {
  const chosen = method ?? getStartMethod();
  if (chosen === "thread") return THREAD;
  if (chosen === "process") return PROCESS;
  throw new RangeError(
    `Cannot get a context: no start method is called ${
      typeof method === "string" ? `"${method}"` : String(method)
    }: use "thread" or "process"`,
  );
}

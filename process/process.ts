import { checkTimeout, raceDeadline } from "../_internal/deadline.ts";
import { recordToError } from "../_internal/error_record.ts";
import { nextChildPath } from "../_internal/identity.ts";
import { KILLED, TERMINATED } from "../_internal/worker_parent.ts";
import { InvalidStateError } from "../errors.ts";
import { type AnyFunction, isTaskRef, task, type TaskRef } from "../task.ts";
import { checkStartMethod } from "./_check_start_method.ts";
import { addChild, removeChild } from "./_children.ts";
import { launchSubprocess } from "./_launch_subprocess.ts";
import { launchThread } from "./_launch_thread.ts";
import type { Launcher, Started } from "./_launcher.ts";
import type { ProcessMessage } from "./_protocol.ts";
import { getStartMethod, type StartMethod } from "./start_method.ts";

/** Options for {@linkcode Process}. */
export interface ProcessOptions<F extends AnyFunction = AnyFunction> {
  /**
   * What to run: a {@linkcode TaskRef}, or a module URL with `fn` naming the export.
   */
  target: TaskRef<F> | string | URL;
  /** Export to run when `target` is a module URL. @default {"default"} */
  fn?: string;
  /** Arguments for the target; shareable objects (locks, values, queues) arrive live. @default {[]} */
  args?: Parameters<F>;
  /** Display name. @default {"Process-N"} as Python numbers them */
  name?: string;
  /** A daemon child is stopped when its parent ends; a non-daemon one is waited for. @default {false} */
  daemon?: boolean;
  /**
   * Run in a worker thread (`"thread"`) or an OS child process (`"process"`); see
   * {@linkcode StartMethod}. `getContext(method).Process` sets it for you.
   * @default {getStartMethod()} when the process starts
   */
  startMethod?: StartMethod;
  /**
   * Bound on the child's JavaScript heap in MiB, for the `"process"` start method only:
   * past it the child dies (exit code -6 or -5 by signal) and takes nothing else down.
   * Node and Deno pass V8's `--max-old-space-size`; Bun, which has no heap bound, gets an
   * address-space limit of this much plus its own ~640 MiB, past which an allocation may
   * instead throw a `RangeError` the child can catch.
   * @default {undefined} (the runtime's own limit)
   */
  maxHeapMiB?: number;
}

/** Options for {@linkcode Process.join}. */
export interface JoinOptions {
  /** Stops the wait (the process keeps running), rejecting with the signal's reason. */
  signal?: AbortSignal;
}

const LAUNCHERS: Record<StartMethod, Launcher> = { thread: launchThread, process: launchSubprocess };

/**
 * A function running in its own worker thread with its own isolate, or in an OS child
 * process with the `"process"` start method, like Python's `multiprocessing.Process`.
 *
 * @typeParam F the target function's type
 *
 * @example Usage
 * ```ts
 * import { Process, taskModule } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const tasks = taskModule<typeof import("./tests/testdata/tasks.ts")>(new URL("./tests/testdata/tasks.ts", import.meta.url));
 * const p = new Process({ target: tasks.work, args: [21], name: "w1" });
 * p.start();
 * await p.join();
 * assert.equal(p.exitCode, 0);
 * ```
 */
export class Process<F extends AnyFunction = AnyFunction> {
  #target: TaskRef;
  #args: unknown[];
  #name: string;
  #daemon: boolean;
  #path: number[];
  #startMethod: StartMethod | undefined;
  readonly #maxHeapMiB: number | undefined;
  #child: Started | null = null;
  #error: Error | null = null;
  #closed = false;

  /**
   * Describe a process; nothing runs until {@linkcode Process.start}.
   *
   * @param options target, args, name, daemon, startMethod
   * @throws {TypeError} when the target is not a task reference or module URL
   * @throws {RangeError} when `startMethod` names no start method, or `maxHeapMiB` is not a positive integer
   */
  constructor(options: ProcessOptions<F>) {
    const {
      target,
      fn = "default",
      args = [] as unknown as Parameters<F>,
      name,
      daemon = false,
      startMethod,
      maxHeapMiB,
    } = options;
    if (isTaskRef(target)) this.#target = { module: target.module, name: target.name };
    else if (typeof target === "string" || target instanceof URL) this.#target = task(target, fn);
    else {
      throw new TypeError(
        `Cannot create a process: the target must be a task reference or a module URL, got ${typeof target}`,
      );
    }
    if (!Array.isArray(args)) throw new TypeError(`Cannot create a process: args must be an array, got ${typeof args}`);
    this.#args = args;
    this.#path = nextChildPath();
    this.#name = name ?? `Process-${this.#path.join(":")}`;
    this.#daemon = daemon;
    this.#startMethod = startMethod === undefined ? undefined : checkStartMethod(startMethod, "create a process");
    if (maxHeapMiB !== undefined && (!Number.isInteger(maxHeapMiB) || maxHeapMiB < 1)) {
      throw new RangeError(
        `Cannot create a process: maxHeapMiB must be a positive integer or undefined, got ${String(maxHeapMiB)}`,
      );
    }
    this.#maxHeapMiB = maxHeapMiB;
  }

  /** Display name. */
  get name(): string {
    return this.#name;
  }
  set name(value: string) {
    this.#name = String(value);
  }

  /** Whether the process is stopped when its parent ends. Settable before `start()` only. */
  get daemon(): boolean {
    return this.#daemon;
  }
  set daemon(value: boolean) {
    if (this.#child !== null) {
      throw new InvalidStateError(`Cannot set daemon of process "${this.#name}": it was already started`);
    }
    this.#daemon = Boolean(value);
  }

  /**
   * Unique id of the running worker (the OS pid with the `"process"` start method), `null`
   * before `start()`.
   */
  get ident(): number | null {
    return this.#child?.ident ?? null;
  }

  /** How this process runs: set at creation, else the default start method once started. */
  get startMethod(): StartMethod | null {
    return this.#startMethod ?? null;
  }

  /** Same as {@linkcode Process.ident}; Python's name for it. */
  get pid(): number | null {
    return this.ident;
  }

  /**
   * `null` while running or before start; then 0 after a normal return, 1 after an
   * uncaught error, N after `exit(N)`, -15 after `terminate()`, -9 after `kill()`, and for
   * an OS child (the `"process"` start method) -N when signal N ended it.
   */
  get exitCode(): number | null {
    return this.#child?.exitCode ?? null;
  }

  /** The child's uncaught error, rebuilt here with the child's stack; `null` if none. */
  get error(): Error | null {
    return this.#error;
  }

  /**
   * Start the target in a new worker thread, or an OS child process with the `"process"`
   * start method.
   *
   * @throws {InvalidStateError} when started twice or after `close()`
   * @throws {TypeError} when an argument cannot be sent; the message names it (`args[1].cb`).
   * Also when `maxHeapMiB` is given and the process would be a worker thread.
   * With the `"process"` start method that includes anything in shared memory (locks,
   * SharedArrayBuffers), which OS processes do not share.
   */
  start(): void {
    this.#checkOpen("start");
    if (this.#child !== null) {
      throw new InvalidStateError(`Cannot start process "${this.#name}": it was already started`);
    }
    const method = this.#startMethod ?? getStartMethod();
    // A worker thread shares this process's memory: only an OS child's heap can be bounded
    // alike on every runtime (Deno and Bun workers have no resource limits).
    if (this.#maxHeapMiB !== undefined && method !== "process") {
      throw new TypeError(
        `Cannot start process "${this.#name}": maxHeapMiB bounds OS child processes only: use getContext("process").Process, or leave it out`,
      );
    }
    const child = LAUNCHERS[method]({
      target: this.#target,
      args: this.#args,
      name: this.#name,
      path: this.#path,
      daemon: this.#daemon,
      maxHeapMiB: this.#maxHeapMiB,
    });
    this.#startMethod = method;
    this.#child = child;
    child.handle.onMessage((message) => {
      const m = message as ProcessMessage;
      if (m.t === "error") this.#error = recordToError(m.error);
    });
    addChild(this);
    void child.exited.then(() => removeChild(this));
  }

  /**
   * Wait until the process ends, or until `timeout` ms have passed (then it resolves
   * anyway, as in Python; check {@linkcode Process.exitCode}).
   *
   * @param timeout milliseconds, or `undefined` to wait as long as it takes
   * @param options `signal` stops the wait (not the process), rejecting with its reason
   * @throws {InvalidStateError} when the process was never started, or after `close()`
   * @throws {RangeError} when the timeout is negative or NaN
   */
  async join(timeout?: number, options: JoinOptions = {}): Promise<void> {
    const { signal } = options;
    checkTimeout(timeout, `join process "${this.#name}"`);
    this.#checkOpen("join");
    if (this.#child === null) throw new InvalidStateError(`Cannot join process "${this.#name}": it was not started`);
    await raceDeadline(this.#child.exited, timeout, signal);
  }

  /**
   * Whether the process has started and not yet ended.
   *
   * @throws {InvalidStateError} after `close()`
   */
  isAlive(): boolean {
    if (this.#closed) {
      throw new InvalidStateError(`Cannot tell whether process "${this.#name}" is alive: the process object is closed`);
    }
    return this.#child !== null && this.#child.exitCode === null;
  }

  /**
   * Stop the process at once; its exit code becomes -15. A no-op once it has ended.
   *
   * @throws {InvalidStateError} before `start()` or after `close()`
   */
  terminate(): void {
    this.#stop("terminate", TERMINATED);
  }

  /**
   * Stop the process at once; its exit code becomes -9. A no-op once it has ended.
   *
   * @throws {InvalidStateError} before `start()` or after `close()`
   */
  kill(): void {
    this.#stop("kill", KILLED);
  }

  /**
   * Release the process object: afterwards `start()`, `join()`, `isAlive()`,
   * `terminate()` and `kill()` throw, as Python's raise `ValueError`. Python forbids
   * closing a running process, and so do we. Closing twice is allowed.
   *
   * @throws {InvalidStateError} when the process is still running
   */
  close(): void {
    if (this.#closed) return;
    if (this.isAlive()) throw new InvalidStateError(`Cannot close process "${this.#name}": it is still running`);
    this.#closed = true;
    removeChild(this);
  }

  /** Kill the process if it still runs and wait for it: the `await using` form. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return;
    if (this.isAlive()) {
      this.terminate();
      await this.#child!.exited;
    }
    this.#closed = true;
    removeChild(this);
  }

  /** A short description, like Python's repr. */
  toString(): string {
    const state = this.#closed
      ? "closed"
      : this.#child === null
      ? "initial"
      : this.exitCode === null
      ? "started"
      : `stopped exitcode=${this.exitCode}`;
    return `<Process name='${this.#name}' ${state}${this.#daemon ? " daemon" : ""}>`;
  }

  #stop(what: string, code: number): void {
    this.#checkOpen(what);
    if (this.#child === null) throw new InvalidStateError(`Cannot ${what} process "${this.#name}": it was not started`);
    void this.#child.stop(code);
  }

  #checkOpen(what: string): void {
    if (this.#closed) {
      throw new InvalidStateError(`Cannot ${what} process "${this.#name}": the process object is closed`);
    }
  }
}

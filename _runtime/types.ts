/** Which JavaScript runtime the program runs on. */
export type RuntimeName = "node" | "deno" | "bun";

/** Options for starting a worker thread from a module URL. */
export interface SpawnOptions {
  /** Module the worker runs first (a `file:` URL string). */
  entry: string;
  /** Structured-cloneable data the worker reads with `workerData()`. */
  data: unknown;
  /** When true the worker does not keep the program alive. */
  daemon: boolean;
  /** Name shown in the runtime's debugger and errors. */
  name: string;
  /**
   * Give the worker an inbox it can also poll synchronously (`ParentPort.receive()`), so a
   * worker that has just finished can pick up the next message by spinning briefly
   * instead of sleeping until the event loop wakes it.
   */
  inbox?: boolean;
}

/** One started worker, the same on every runtime. */
export interface WorkerHandle {
  /** Send a message, moving the buffers in `transfer`. */
  post(message: unknown, transfer?: Transferable[]): void;
  /** Called for each message from the worker. */
  onMessage(listener: (message: unknown) => void): void;
  /** Called once when the worker has ended, with the runtime's exit code. */
  onExit(listener: (code: number) => void): void;
  /** Called for an error the worker did not catch. */
  onError(listener: (error: unknown) => void): void;
  /** Stop the worker at once, even when it is blocked. */
  terminate(): Promise<void>;
  /** Keep the program alive while the worker runs. */
  ref(): void;
  /** Let the program end while the worker runs. */
  unref(): void;
}

/** The port a worker uses to talk to its parent. */
export interface ParentPort {
  /** Send a message to the parent. */
  post(message: unknown, transfer?: Transferable[]): void;
  /** Called for each message from the parent. */
  onMessage(listener: (message: unknown) => void): void;
  /** Stop listening so the worker may end when idle. */
  close(): void;
  /**
   * Take the next message now, if one is waiting; `undefined` when none is, or when the
   * worker was started without an inbox. The message does not reach `onMessage`.
   */
  receive(): unknown;
  /** Whether `receive()` can find anything: the worker was started with an inbox. */
  readonly pollable: boolean;
}

/** The runtime adapter: everything that differs between Node, Deno and Bun. */
export interface Runtime {
  /** Which runtime this is. */
  readonly name: RuntimeName;
  /** Versions of the runtime and its engine. */
  readonly versions: Readonly<Record<string, string>>;
  /** Whether this thread may block in `Atomics.wait`. */
  readonly canBlock: boolean;
  /** Whether this thread is the program's main thread. */
  readonly isMainThread: boolean;
  /** This OS process's id. */
  readonly pid: number;
  /** Logical CPUs available to the program. */
  cpuCount(): number;
  /** Start a worker thread. */
  spawn(options: SpawnOptions): WorkerHandle;
  /** The data the parent passed to this worker, or `undefined` on the main thread. */
  workerData(): unknown;
  /** The port to the parent, or `null` on the main thread. */
  parentPort(): ParentPort | null;
  /**
   * In a worker started idle (with no work in its data): wait for the parent's first
   * message, `{ entry, data, run? }`, after which `workerData()` returns `data` and
   * `parentPort()` carries the later messages. `run`, when given, names a module whose
   * `run()` does what importing `entry` would. Call `loaded()` once the entry has run its
   * top level.
   */
  awaitWork(): Promise<{ entry: string; run?: string; loaded(): void }>;
  /** End this worker thread (or the program, on the main thread) with `code`. */
  exitThread(code: number): never;
  /**
   * On the main thread: once the event loop has nothing left to do and no other
   * `beforeExit` listener could give it more, end the program as `process.exit()` does
   * (the exit listeners run, with `process.exitCode`), skipping the runtime's teardown of
   * a program that ran out of work, which costs Node and Bun milliseconds.
   */
  exitWhenIdle(): void;
  /** Run `listener` for errors nothing caught, in this thread. */
  onUncaught(listener: (error: unknown) => void): void;
  /** Import a module by URL, loading TypeScript support first where the runtime needs it. */
  importModule(url: string): Promise<Record<string, unknown>>;
  /** Call `fn` after `ms` milliseconds unless the program has ended by then: the timer keeps nothing alive. */
  later(fn: () => void, ms: number): void;
  /**
   * This thread's environment variables and working directory as one string, to tell
   * whether they changed (a worker or a child process gets a copy of them when it is
   * created); a string never seen before when they cannot be read.
   */
  envSnapshot(): string;
  /** Write a line to standard error. */
  printError(text: string): void;
  /**
   * Start an OS child process running `options.entry` with this runtime, and send it
   * `options.data` first.
   *
   * @throws {TypeError} when `options.data` cannot be copied to another process
   */
  fork(options: ForkOptions): ProcessHandle;
  /**
   * In an OS child started by {@linkcode Runtime.fork}: wait for the data its parent sent
   * and return it with the channel to the parent; `null` in any other process or thread.
   * With `keepAlive` the channel keeps the child running (a pool worker waiting for work);
   * without, the child ends once its own work is done.
   */
  enterProcess(keepAlive: boolean): Promise<{ data: unknown; port: ProcessParentPort }> | null;
  /** Structured-clone `value` into bytes (`node:v8` serialize); throws for what cannot be cloned. */
  serialize(value: unknown): Uint8Array;
  /** Rebuild a value from {@linkcode Runtime.serialize}'s bytes; `bytes` may view shared memory. */
  deserialize(bytes: Uint8Array): unknown;
  /**
   * Bytes of JavaScript heap in use by this thread (its own isolate or VM), garbage not yet
   * collected included.
   */
  heapUsed(): number;
  /** Let the program end while `timer` (from `setTimeout`) is pending. */
  unrefTimer(timer: ReturnType<typeof setTimeout>): void;
}

/** Options for starting an OS child process running a module. */
export interface ForkOptions {
  /** Module the child runs first (a `file:` URL string). */
  entry: string;
  /**
   * Structured-cloneable data: the first message the child receives. Absent for a child
   * started ahead of need, whose first `post()` gives it its data.
   */
  data?: unknown;
  /** When true the child does not keep this program alive. */
  daemon: boolean;
  /** Bound on the child's JavaScript heap in MiB; no bound of its own when absent. */
  maxHeapMiB?: number;
}

/** One started OS child process, the same on every runtime. */
export interface ProcessHandle {
  /** The child's OS process id. */
  readonly pid: number;
  /**
   * Send a message (structured-clone semantics).
   *
   * @throws {TypeError} when the message cannot be copied to another process
   */
  post(message: unknown): void;
  /** Called for each message from the child. */
  onMessage(listener: (message: unknown) => void): void;
  /** Called once the child has loaded its entry and waits for its data. */
  onBooted(listener: () => void): void;
  /**
   * Called once when the child has ended, with its exit code as Python reports it: the
   * code it exited with, or `-N` when signal N ended it.
   */
  onExit(listener: (code: number) => void): void;
  /** Send the child a signal; a no-op once it has ended. */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
  /** Keep this program alive while the child runs. */
  ref(): void;
  /** Let this program end while the child runs. */
  unref(): void;
}

/** The channel an OS child process uses to talk to the parent that started it. */
export interface ProcessParentPort {
  /**
   * Send a message to the parent; resolves once it has left this process.
   *
   * @throws {TypeError} at once when the message cannot be copied to another process
   */
  post(message: unknown): Promise<void>;
  /** Called for each message from the parent after the first; those that came earlier are kept for it. */
  onMessage(listener: (message: unknown) => void): void;
  /** Called once when the parent has gone (it ended or closed the channel). */
  onDisconnect(listener: () => void): void;
  /** Whether the channel to the parent is still open. */
  readonly connected: boolean;
}

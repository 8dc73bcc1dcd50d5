// The worker_threads module behaves the same on Node 20, Deno 2 and Bun 1 (exit codes,
// `unref()`, errors reported as events, `terminate()` of a blocked worker), while the
// web `Worker` differs on each (Deno has no exit event and no unref): so every adapter
// starts workers through it.
import process from "node:process";
import * as wt from "node:worker_threads";
import type { ParentPort, SpawnOptions, WorkerHandle } from "./types.ts";

/**
 * Key of the message a worker sends as its thread ends, with its exit code: the runtime's
 * exit event comes only after the thread is torn down, 1-9 ms later here, and a join
 * waits for that.
 */
const EXIT_NOTICE = "mproc.exitNotice";

function isExitNotice(message: unknown): message is { [EXIT_NOTICE]: number } {
  return typeof message === "object" && message !== null && EXIT_NOTICE in message;
}

// In a worker this package started: tell the parent how the thread ends, from the last
// code that runs in it (after this the thread runs no more JavaScript). Under `bun test` a
// thread ended by an uncaught error reports 0 there: the error event, which comes first,
// says otherwise (the parent counts such a worker as failed too).
if (!wt.isMainThread && (wt.workerData as { exitNotice?: boolean } | undefined)?.exitNotice === true) {
  const port = wt.parentPort!;
  let failed = false;
  const g = globalThis as unknown as Partial<EventTarget>;
  g.addEventListener?.("error", () => (failed = true));
  g.addEventListener?.("unhandledrejection", () => (failed = true));
  process.on("exit", (code) => port.postMessage({ [EXIT_NOTICE]: code === 0 && failed ? 1 : code }));
}

/** How a runtime turns a module URL into a `worker_threads` constructor call. */
export type Launch = (options: SpawnOptions) => { filename: string | URL; eval: boolean; data: unknown };

/**
 * Start a worker and wrap it in the uniform handle. `pollable` says whether this runtime
 * can give a worker an inbox to poll; without it `options.inbox` is ignored and the
 * worker's `receive()` finds nothing.
 */
export function spawnWith(launch: Launch, options: SpawnOptions, pollable: boolean): WorkerHandle {
  const how = launch(options);
  // Messages to the worker go through a channel of their own when it has an inbox, so
  // that one port carries them all whether polled or listened to. Messages back stay on
  // the parent port, which delivers them all before the worker's exit event.
  const channel = options.inbox && pollable ? new wt.MessageChannel() : undefined;
  const data = how.data as { inbox?: wt.MessagePort; exitNotice?: boolean };
  if (channel !== undefined) data.inbox = channel.port2;
  data.exitNotice = true;
  const worker = new wt.Worker(how.filename, {
    eval: how.eval,
    workerData: how.data,
    transferList: channel === undefined ? undefined : [channel.port2],
    name: options.name,
    // Workers must not inherit `--import tsx` and friends from the parent: the launcher
    // decides what each worker loads.
    execArgv: [],
    stdout: false,
    stderr: false,
  });
  // This listener also keeps an error the worker did not catch from being treated as the
  // parent's own (its exit event follows). `bun test` reports exit code 0 for such a
  // worker, hence the flag.
  let errored = false;
  worker.on("error", () => (errored = true));
  // The exit is reported once, by the worker's notice or else by the runtime's event.
  let exitCode: number | null = null;
  const exitListeners: ((code: number) => void)[] = [];
  const exited = (code: number) => {
    if (exitCode !== null) return;
    exitCode = code === 0 && errored ? 1 : code;
    for (const listener of exitListeners.splice(0)) listener(exitCode);
  };
  const messageListeners: ((message: unknown) => void)[] = [];
  worker.on("message", (message: unknown) => {
    if (isExitNotice(message)) exited(message[EXIT_NOTICE]);
    else for (const listener of messageListeners) listener(message);
  });
  worker.once("exit", exited);
  let referenced = !options.daemon;
  // Node refs a worker when a message listener is added.
  if (!referenced) worker.unref();
  return {
    post: channel === undefined
      ? (message, transfer) => worker.postMessage(message, transfer as never)
      : (message, transfer) => channel.port1.postMessage(message, transfer as never),
    onMessage: (listener) => void messageListeners.push(listener),
    onExit: (listener) => {
      if (exitCode === null) exitListeners.push(listener);
      else queueMicrotask(() => listener(exitCode!));
    },
    onError: (listener) => void worker.on("error", listener),
    terminate: async () => {
      channel?.port1.close();
      await worker.terminate();
    },
    ref: () => {
      referenced = true;
      worker.ref();
    },
    unref: () => {
      referenced = false;
      worker.unref();
    },
  };
}

/** What a worker started idle received as its work (see {@linkcode awaitWork}). */
let assigned: { data: unknown; port: ParentPort } | undefined;

/** The data passed to this worker, or the data of the work it was given once started idle. */
export function workerData(): unknown {
  if (assigned !== undefined) return assigned.data;
  return wt.isMainThread ? undefined : wt.workerData;
}

/** The port to the parent, wrapped; with the worker's inbox when it was given one. */
export function parentPort(): ParentPort | null {
  if (assigned !== undefined) return assigned.port;
  const port = wt.parentPort;
  if (port === null) return null;
  const inbox = (wt.workerData as { inbox?: wt.MessagePort } | undefined)?.inbox;
  const incoming = inbox ?? port;
  return {
    post: (message, transfer) => port.postMessage(message, transfer as never),
    onMessage: (listener) => void incoming.on("message", listener),
    close: () => {
      incoming.removeAllListeners("message");
      incoming.unref();
    },
    receive: inbox === undefined ? () => undefined : () => wt.receiveMessageOnPort(inbox)?.message,
    pollable: inbox !== undefined,
  };
}

/** Whether this is the program's main thread. */
export const isMainThread: boolean = wt.isMainThread;

/** What a worker started idle is given to do: an entry module and its data. */
export interface Work {
  entry: string;
  data: unknown;
  /** A module whose `run()` does what importing `entry` does, for a worker that has it loaded. */
  run?: string;
}

/**
 * In a worker started idle: wait for the parent's first message, a {@linkcode Work};
 * from then on `workerData()` is its data and `parentPort()` carries the messages after
 * it. One listener stays on the port from the start and keeps, in order, what comes
 * before the entry listens, since a port with no listener may drop messages. `loaded()`
 * (called once the entry module has run its top level) removes that listener unless the
 * entry listens, so a worker whose entry never listens ends when its work is done, as a
 * worker started on the entry directly would.
 */
export function awaitWork(): Promise<{ entry: string; run?: string; loaded(): void }> {
  const port = wt.parentPort;
  if (port === null) return Promise.reject(new Error("Cannot wait for work on the main thread"));
  const inbox = (wt.workerData as { inbox?: wt.MessagePort } | undefined)?.inbox;
  const incoming = inbox ?? port;
  return new Promise((resolve) => {
    let listeners: ((message: unknown) => void)[] = [];
    let early: unknown[] = [];
    let flushing = false;
    let work: Work | undefined;
    const dispatch = (message: unknown) => {
      for (const listener of listeners) listener(message);
    };
    const flush = () => {
      flushing = false;
      while (early.length > 0 && listeners.length > 0) dispatch(early.shift());
    };
    const forward = (message: unknown) => {
      if (work === undefined) {
        work = message as Work;
        // Shaped as a launch's worker data, which the adapter unwraps.
        assigned = { data: { data: work.data }, port: assignedPort };
        resolve({ entry: work.entry, run: work.run, loaded });
      } else if (listeners.length === 0 || early.length > 0) early.push(message);
      else dispatch(message);
    };
    const loaded = () => {
      if (listeners.length === 0) incoming.off("message", forward);
    };
    const assignedPort: ParentPort = {
      post: (message, transfer) => port.postMessage(message, transfer as never),
      onMessage: (listener) => {
        listeners.push(listener);
        if (early.length > 0 && !flushing) {
          flushing = true;
          queueMicrotask(flush);
        }
      },
      close: () => {
        listeners = [];
        early = [];
        incoming.removeAllListeners("message");
        incoming.unref();
      },
      receive: inbox === undefined
        ? () => undefined
        : () => (early.length > 0 ? early.shift() : wt.receiveMessageOnPort(inbox)?.message),
      pollable: inbox !== undefined,
    };
    incoming.on("message", forward);
  });
}

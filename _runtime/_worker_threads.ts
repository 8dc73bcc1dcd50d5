// The worker_threads module behaves the same on Node 20, Deno 2 and Bun 1 (exit codes,
// `unref()`, errors reported as events, `terminate()` of a blocked worker), while the
// web `Worker` differs on each (Deno has no exit event and no unref): so every adapter
// starts workers through it.
import * as wt from "node:worker_threads";
import type { ParentPort, SpawnOptions, WorkerHandle } from "./types.ts";

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
  if (channel !== undefined) (how.data as { inbox?: wt.MessagePort }).inbox = channel.port2;
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
  let referenced = !options.daemon;
  if (!referenced) worker.unref();
  return {
    post: channel === undefined
      ? (message, transfer) => worker.postMessage(message, transfer as never)
      : (message, transfer) => channel.port1.postMessage(message, transfer as never),
    onMessage: (listener) => {
      worker.on("message", listener);
      // Node refs a worker again when a message listener is added.
      if (!referenced) worker.unref();
    },
    onExit: (listener) => void worker.once("exit", (code: number) => listener(code === 0 && errored ? 1 : code)),
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

/** The data passed to this worker. */
export function workerData(): unknown {
  return wt.isMainThread ? undefined : wt.workerData;
}

/** The port to the parent, wrapped; with the worker's inbox when it was given one. */
export function parentPort(): ParentPort | null {
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

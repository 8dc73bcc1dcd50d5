// The worker_threads module behaves the same on Node 20, Deno 2 and Bun 1 (exit codes,
// `unref()`, errors reported as events, `terminate()` of a blocked worker), while the
// web `Worker` differs on each (Deno has no exit event and no unref): so every adapter
// starts workers through it.
import * as wt from "node:worker_threads";
import type { ParentPort, SpawnOptions, WorkerHandle } from "./types.ts";

/** How a runtime turns a module URL into a `worker_threads` constructor call. */
export type Launch = (options: SpawnOptions) => { filename: string | URL; eval: boolean; data: unknown };

/** Start a worker and wrap it in the uniform handle. */
export function spawnWith(launch: Launch, options: SpawnOptions): WorkerHandle {
  const how = launch(options);
  const worker = new wt.Worker(how.filename, {
    eval: how.eval,
    workerData: how.data,
    name: options.name,
    // Workers must not inherit `--import tsx` and friends from the parent: the launcher
    // decides what each worker loads.
    execArgv: [],
    stdout: false,
    stderr: false,
  });
  // `bun test` reports exit code 0 for a worker that died of an uncaught error.
  let errored = false;
  worker.on("error", () => (errored = true));
  let referenced = !options.daemon;
  if (!referenced) worker.unref();
  return {
    post: (message, transfer) => worker.postMessage(message, transfer as never),
    onMessage: (listener) => {
      worker.on("message", listener);
      // Node refs a worker again when a message listener is added.
      if (!referenced) worker.unref();
    },
    onExit: (listener) => void worker.once("exit", (code: number) => listener(code === 0 && errored ? 1 : code)),
    onError: (listener) => void worker.on("error", listener),
    terminate: async () => {
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

/** The port to the parent, wrapped. */
export function parentPort(): ParentPort | null {
  const port = wt.parentPort;
  if (port === null) return null;
  return {
    post: (message, transfer) => port.postMessage(message, transfer as never),
    onMessage: (listener) => void port.on("message", listener),
    close: () => {
      port.removeAllListeners("message");
      port.unref();
    },
  };
}

/** Whether this is the program's main thread. */
export const isMainThread: boolean = wt.isMainThread;

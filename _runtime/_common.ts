import * as os from "node:os";
import process from "node:process";
import * as wt from "node:worker_threads";
import { enterProcess, type ForkArgs, forkWith } from "./_child_process.ts";
import { parentPort, spawnWith, workerData } from "./_worker_threads.ts";
import type { Launch } from "./_worker_threads.ts";
import type { Runtime, RuntimeName } from "./types.ts";

function probeCanBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    // Browser-like main threads refuse Atomics.wait with a TypeError.
    return false;
  }
}

/** Build a runtime adapter from the parts that differ between runtimes. */
export function makeRuntime(
  name: RuntimeName,
  versions: Record<string, string>,
  launch: Launch,
  importModule: (url: string) => Promise<Record<string, unknown>> = (url) => import(url),
  pollableInbox = true,
  forkArgs: ForkArgs = () => [],
): Runtime {
  return {
    name,
    versions,
    canBlock: probeCanBlock(),
    isMainThread: wt.isMainThread,
    pid: process.pid,
    cpuCount: () => os.availableParallelism?.() ?? os.cpus().length,
    spawn: (options) => spawnWith(launch, options, pollableInbox),
    workerData: () => (workerData() as { data?: unknown } | undefined)?.data,
    parentPort,
    exitThread: (code) => process.exit(code),
    onUncaught: (listener) => {
      process.on("uncaughtException", listener);
      process.on("unhandledRejection", listener);
      // Under `bun test` a worker's uncaught error skips the process events and arrives
      // only as a global error event.
      const g = globalThis as unknown as Partial<EventTarget>;
      g.addEventListener?.("error", (event) => {
        event.preventDefault();
        listener((event as ErrorEvent).error);
      });
      g.addEventListener?.("unhandledrejection", (event) => {
        event.preventDefault();
        listener((event as PromiseRejectionEvent).reason);
      });
    },
    importModule,
    printError: (text) => console.error(text),
    fork: (options) => forkWith(forkArgs, options),
    enterProcess,
  };
}

/** Deno and Bun load TypeScript modules in workers natively. */
export const nativeLaunch: Launch = ({ entry, data }) => ({ filename: new URL(entry), eval: false, data: { data } });

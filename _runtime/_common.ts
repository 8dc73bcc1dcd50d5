import * as os from "node:os";
import process from "node:process";
import { setTimeout as setNodeTimeout } from "node:timers";
import * as v8 from "node:v8";
import * as wt from "node:worker_threads";
import { enterProcess, type ForkArgs, forkWith, type HeapLimit, v8HeapLimit } from "./_child_process.ts";
import { awaitWork, parentPort, spawnWith, workerData } from "./_worker_threads.ts";
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

// Node and Deno refuse to serialize a SharedArrayBuffer, as structured clone to bytes
// must; Bun accepts one and the copy is not shared, so it is refused here instead.
function serializeRefusingShared(value: unknown): Uint8Array {
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (typeof v !== "object" || v === null || seen.has(v)) return;
    seen.add(v);
    if (v instanceof SharedArrayBuffer || (ArrayBuffer.isView(v) && v.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError("#<SharedArrayBuffer> could not be cloned.");
    }
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return;
    if (v instanceof Map) { for (const [k, x] of v) (visit(k), visit(x)); }
    else if (v instanceof Set) { for (const x of v) visit(x); }
    else for (const k of Object.keys(v)) visit((v as Record<string, unknown>)[k]);
  };
  visit(value);
  return v8.serialize(value);
}

let unreadable = 0;

function envSnapshot(): string {
  try {
    // Deno lists the variables in no fixed order.
    const env = { ...process.env };
    return `${process.cwd()}\0${JSON.stringify(env, Object.keys(env).sort())}`;
  } catch {
    // Deno without permission to read every variable: count every snapshot as a change.
    return `unreadable ${++unreadable}`;
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
  heapLimit: HeapLimit = v8HeapLimit,
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
    awaitWork,
    exitThread: (code) => process.exit(code),
    exitWhenIdle: () => {
      // First to run when the loop runs dry: alone, nothing can give the loop more work
      // after it; with other listeners, which may, the program ends the usual way.
      process.prependListener("beforeExit", () => {
        if (process.listenerCount("beforeExit") === 1) process.exit();
      });
    },
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
    envSnapshot,
    later: (fn, ms) => void setNodeTimeout(fn, ms).unref(),
    printError: (text) => console.error(text),
    fork: (options) => forkWith(forkArgs, heapLimit, options),
    enterProcess,
    serialize: name === "bun" ? serializeRefusingShared : (value) => v8.serialize(value),
    deserialize: (bytes) => v8.deserialize(bytes),
    // Bun's v8.getHeapStatistics() takes milliseconds; its memoryUsage() reads the
    // thread's own VM heap in microseconds.
    heapUsed: name === "bun" ? () => process.memoryUsage().heapUsed : () => v8.getHeapStatistics().used_heap_size,
    unrefTimer: name === "deno"
      // deno-lint-ignore no-explicit-any
      ? (timer) => (globalThis as any).Deno.unrefTimer(timer)
      : (timer) => (timer as unknown as { unref(): void }).unref(),
  };
}

/** Deno and Bun load TypeScript modules in workers natively. */
export const nativeLaunch: Launch = ({ entry, data }) => ({ filename: new URL(entry), eval: false, data: { data } });

// OS child processes through node:child_process, which behaves alike on Node 20, Deno 2
// and Bun 1: `fork()` with `serialization: "advanced"` (structured clone over the IPC
// channel), a real pid, `exit` and `close` events with the signal's name, `unref()`. What
// differs per runtime is only how the child loads the entry (Node needs tsx for `.ts`).
import { type ChildProcess, fork } from "node:child_process";
import * as os from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { serialize } from "node:v8";
import type { ForkOptions, ProcessHandle, ProcessParentPort } from "./types.ts";

/** How a runtime turns an entry URL into the flags its child process needs. */
export type ForkArgs = (entry: string) => string[];

const live = new Set<ChildProcess>();
let exitHookSet = false;

// Python terminates daemon children at exit and waits for the others; a program that ends
// while children still run (process.exit, an uncaught error) must not leave them behind.
// Children also end themselves when the channel to their parent closes (see
// enterProcess), which covers a parent killed outright.
function stopAllAtExit(): void {
  for (const child of live) child.kill("SIGTERM");
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal !== null) return -((os.constants.signals as Record<string, number>)[signal] ?? 0);
  return code ?? 1;
}

/**
 * Start an OS child running `options.entry` with this runtime and send it `options.data`.
 *
 * @throws {TypeError} when the data cannot be copied to another process
 */
export function forkWith(args: ForkArgs, options: ForkOptions): ProcessHandle {
  // The runtimes disagree on a value the channel cannot carry (Node throws, Deno fails
  // later, Bun sends a SharedArrayBuffer as a copy): check with the same serializer first.
  try {
    serialize(options.data);
  } catch (cause) {
    throw new TypeError(
      `Cannot start a process: its data cannot be copied to another process: ${(cause as Error)?.message ?? cause}`,
      { cause },
    );
  }
  const child = fork(fileURLToPath(options.entry), [], {
    serialization: "advanced",
    // stdin stays with the parent, as Python's children get /dev/null.
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: args(options.entry),
  });
  live.add(child);
  if (!exitHookSet) {
    exitHookSet = true;
    process.on("exit", stopAllAtExit);
  }
  if (options.daemon) {
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
  }
  child.send(options.data as never);
  let ended = false;
  const exitListeners: ((code: number) => void)[] = [];
  const end = (code: number): void => {
    if (ended) return;
    ended = true;
    live.delete(child);
    for (const listener of exitListeners) listener(code);
  };
  // `close` comes after the last message from the child, `exit` may come before it.
  child.once("close", (code, signal) => end(exitCodeOf(code, signal)));
  child.on("error", () => {
    if (child.pid === undefined) end(1);
  });
  return {
    pid: child.pid ?? 0,
    onMessage: (listener) => {
      child.on("message", listener);
    },
    onExit: (listener) => void exitListeners.push(listener),
    kill: (signal) => {
      if (!ended) child.kill(signal);
    },
  };
}

/** The child side: wait for the parent's first message, then let the channel idle. */
export function enterProcess(): Promise<{ data: unknown; port: ProcessParentPort }> | null {
  if (typeof process.send !== "function") return null;
  const send = process.send.bind(process);
  // Listen before the channel is unref'd: Deno refs it again for a listener added later.
  const gone: (() => void)[] = [];
  process.once("disconnect", () => {
    for (const listener of gone) listener();
  });
  const port: ProcessParentPort = {
    post: (message) =>
      new Promise((resolve, reject) => {
        send(message as never, (error: Error | null) => (error ? reject(error) : resolve()));
      }),
    onDisconnect: (listener) => void gone.push(listener),
    get connected() {
      return process.connected === true;
    },
  };
  return new Promise((resolve) => {
    process.once("message", (data) => {
      // The channel must not keep the child alive: it ends when its target is done, as a
      // script does.
      (process.channel as { unref?: () => void } | undefined)?.unref?.();
      resolve({ data, port });
    });
  });
}

// OS child processes through node:child_process, which behaves alike on Node 20, Deno 2
// and Bun 1: `fork()` with `serialization: "advanced"` (structured clone over the IPC
// channel), a real pid, `exit` and `close` events with the signal's name, `unref()`. What
// differs per runtime is only how the child loads the entry (Node needs tsx for `.ts`).
import { type ChildProcess, fork } from "node:child_process";
import * as os from "node:os";
import process from "node:process";
import { clearInterval, setInterval } from "node:timers";
import { fileURLToPath } from "node:url";
import { deserialize, serialize } from "node:v8";
import type { ForkOptions, ProcessHandle, ProcessParentPort } from "./types.ts";

/** How a runtime turns an entry URL into the flags its child process needs. */
export type ForkArgs = (entry: string) => string[];

/** The command that starts a child with its heap bounded to `mib` MiB, given its runtime flags. */
export type HeapLimit = (mib: number, execArgv: string[]) => { execPath?: string; execArgv: string[] };

/** V8 (Node, and Deno, which takes Node's flag in a child) bounds its old space itself. */
export const v8HeapLimit: HeapLimit = (mib, execArgv) => ({
  execArgv: [`--max-old-space-size=${mib}`, ...execArgv],
});

// What Bun maps before running any JavaScript (seen: ~500 MiB with a low limit, where it
// gives up its large up-front reservations; it fails to start under ~300 MiB).
const BUN_OWN_MIB = 640;

/**
 * JavaScriptCore has no heap bound to set, so Bun's child gets an address-space limit
 * (`ulimit -v`) set by a shell that then becomes Bun: the heap plus Bun's own mappings.
 * Past it an allocation fails with a `RangeError` ("Out of memory") the task may catch,
 * or, when the failure hits the runtime itself, the child aborts.
 */
export const addressSpaceLimit: HeapLimit = (mib, execArgv) => {
  if (process.platform === "win32") {
    throw new TypeError("Cannot bound the heap of a Bun child process on Windows: leave maxHeapMiB out");
  }
  return {
    execPath: "/bin/sh",
    // sh -c SCRIPT $0 $@: $0 is Bun, $@ its flags and then the entry fork() appends.
    execArgv: ["-c", `ulimit -v ${(mib + BUN_OWN_MIB) * 1024} && exec "$0" "$@"`, process.execPath, ...execArgv],
  };
};

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

// Every message crosses as bytes from node:v8's serializer (structured-clone semantics),
// so a value the channel cannot carry fails at once, in the sender, on every runtime: sent
// as is, Node throws, Deno fails later in a callback and Bun copies a SharedArrayBuffer.
function pack(message: unknown): Uint8Array {
  try {
    return serialize(message);
  } catch (cause) {
    throw new TypeError(`it cannot be copied to another process: ${(cause as Error)?.message ?? cause}`, { cause });
  }
}

function unpack(bytes: unknown): unknown {
  return deserialize(bytes as Uint8Array);
}

type Channel = { ref?: () => void; unref?: () => void } | undefined | null;

/**
 * Key of the message every child sends once its entry has loaded and it listens for its
 * data, so a parent that started it ahead of need knows it is ready.
 */
const BOOT_NOTICE = "mproc.booted";

function isBootNotice(message: unknown): boolean {
  return typeof message === "object" && message !== null && BOOT_NOTICE in message;
}

/**
 * Start an OS child running `options.entry` with this runtime and send it `options.data`.
 *
 * @throws {TypeError} when the data cannot be copied to another process
 */
export function forkWith(args: ForkArgs, heapLimit: HeapLimit, options: ForkOptions): ProcessHandle {
  const first = "data" in options ? pack(options.data) : undefined;
  const execArgv = args(options.entry);
  const command = options.maxHeapMiB === undefined ? { execArgv } : heapLimit(options.maxHeapMiB, execArgv);
  const child = fork(fileURLToPath(options.entry), [], {
    serialization: "advanced",
    // stdin stays with the parent, as Python's children get /dev/null.
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    ...command,
  });
  live.add(child);
  if (!exitHookSet) {
    exitHookSet = true;
    process.on("exit", stopAllAtExit);
  }
  const ref = (on: boolean): void => {
    // Bun's channel has no ref/unref of its own: the child's covers it.
    if (on) {
      child.ref();
      (child.channel as Channel)?.ref?.();
    } else {
      child.unref();
      (child.channel as Channel)?.unref?.();
    }
  };
  let booted = false;
  const bootListeners: (() => void)[] = [];
  const messageListeners: ((message: unknown) => void)[] = [];
  child.on("message", (bytes) => {
    const message = unpack(bytes);
    if (!isBootNotice(message)) { for (const listener of messageListeners) listener(message); }
    else if (!booted) {
      booted = true;
      for (const listener of bootListeners.splice(0)) listener();
    }
  });
  if (options.daemon) ref(false);
  if (first !== undefined) child.send(first);
  let exitCode: number | null = null;
  const exitListeners: ((code: number) => void)[] = [];
  const end = (code: number): void => {
    if (exitCode !== null) return;
    exitCode = code;
    live.delete(child);
    for (const listener of exitListeners.splice(0)) listener(code);
  };
  // `close` comes after the last message from the child, `exit` may come before it.
  child.once("close", (code, signal) => end(exitCodeOf(code, signal)));
  child.on("error", () => {
    if (child.pid === undefined) end(1);
  });
  return {
    pid: child.pid ?? 0,
    post: (message) => {
      const bytes = pack(message);
      if (exitCode === null) child.send(bytes);
    },
    onMessage: (listener) => void messageListeners.push(listener),
    onExit: (listener) => {
      if (exitCode === null) exitListeners.push(listener);
      else queueMicrotask(() => listener(exitCode!));
    },
    onBooted: (listener) => {
      if (booted) queueMicrotask(listener);
      else bootListeners.push(listener);
    },
    kill: (signal) => {
      if (exitCode === null) child.kill(signal);
    },
    ref: () => ref(true),
    unref: () => ref(false),
  };
}

/** How often (ms) a child checks that its parent still lives. */
const PARENT_CHECK_MS = 500;

/** The child side: wait for the parent's first message, keeping later ones for onMessage. */
export function enterProcess(keepAlive: boolean): Promise<{ data: unknown; port: ProcessParentPort }> | null {
  if (typeof process.send !== "function") return null;
  const send = process.send.bind(process);
  // Listen once, for good, before the channel is unref'd: Deno refs it again for a
  // listener added later, and a message that finds no listener is lost.
  const gone: (() => void)[] = [];
  let ended = false;
  const onGone = () => {
    if (ended) return;
    ended = true;
    clearInterval(watch);
    // A child forked ahead of need whose parent went before giving it anything to do.
    if (first !== undefined) process.exit(143);
    for (const listener of gone) listener();
  };
  process.once("disconnect", onGone);
  // Deno does not always report the end of the channel when the parent dies: a full Deno
  // test run left two children running for minutes with their parent gone. The parent's
  // pid, which becomes another process's (init's) when it dies, is checked as well.
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) onGone();
  }, PARENT_CHECK_MS);
  watch.unref();
  let first: ((data: unknown) => void) | undefined;
  let listener: ((message: unknown) => void) | undefined;
  const early: unknown[] = [];
  process.on("message", (bytes) => {
    const message = unpack(bytes);
    if (first !== undefined) {
      const take = first;
      first = undefined;
      take(message);
    } else if (listener !== undefined) listener(message);
    else early.push(message);
  });
  send(pack({ [BOOT_NOTICE]: true }) as never);
  const port: ProcessParentPort = {
    post: (message) => {
      const bytes = pack(message);
      return new Promise((resolve, reject) => {
        send(bytes as never, (error: Error | null) => (error ? reject(error) : resolve()));
      });
    },
    onMessage: (next) => {
      listener = next;
      for (const message of early.splice(0)) next(message);
    },
    onDisconnect: (next) => void gone.push(next),
    get connected() {
      return process.connected === true;
    },
  };
  return new Promise((resolve) => {
    first = (data) => {
      // A Process child ends when its target is done, as a script does: the channel must
      // not keep it alive. A pool worker waits on the channel for work.
      if (!keepAlive) (process.channel as Channel)?.unref?.();
      resolve({ data, port });
    };
  });
}

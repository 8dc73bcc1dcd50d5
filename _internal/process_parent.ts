// Parent side of starting an OS child process (the "process" start method): the child
// runs `entry` with this runtime and receives its identity and payload as the first
// message. It shares no memory with this program, so it starts a shared area of its own.
import { type ProcessHandle, runtime } from "../_runtime/mod.ts";
import { ProcessError } from "../errors.ts";
import { splitEntry } from "./bundled.ts";
import { type Identity, identity } from "./identity.ts";
import { takeWarmProcess } from "./process_reserve.ts";

/** What an OS child receives first. */
export interface ProcessInit<P> {
  identity: Identity;
  payload: P;
}

/** Options for {@linkcode spawnProcess}. */
export interface SpawnProcessOptions<P> {
  /** Module the child runs (`import.meta.url`-relative URL of an entry file). */
  entry: URL;
  /** Entry-specific data; must already be cloneable. */
  payload: P;
  name: string;
  path: number[];
  daemon: boolean;
  /** Bound on the child's JavaScript heap in MiB. */
  maxHeapMiB?: number;
}

/** A started OS child process as its parent sees it. */
export class ProcessChild {
  /** The child's OS pid, which is also its ident, as in Python. */
  readonly ident: number;
  /** The runtime handle, for messages. */
  readonly handle: ProcessHandle;
  /** Resolves with the exit code once the child has ended. */
  readonly exited: Promise<number>;
  #exitCode: number | null = null;

  constructor(handle: ProcessHandle) {
    this.ident = handle.pid;
    this.handle = handle;
    this.exited = new Promise((resolve) => {
      handle.onExit((code) => {
        this.#exitCode = code;
        resolve(code);
      });
    });
  }

  /** The exit code, or `null` while the child runs. */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /**
   * Stop the child with SIGTERM (`code` -15) or SIGKILL (-9). Its exit code is the one the
   * OS reports, so a child that had already ended keeps its own.
   */
  stop(code: number): Promise<number> {
    if (this.#exitCode === null) this.handle.kill(code === -9 ? "SIGKILL" : "SIGTERM");
    return this.exited;
  }
}

/**
 * Start an OS child process running `entry`.
 *
 * @throws {TypeError} when the payload cannot be copied to another process
 */
export function spawnProcess<P>(options: SpawnProcessOptions<P>): ProcessChild {
  const entry = splitEntry(options.entry);
  if (entry.bundled !== undefined) {
    // The binary of a single-file program runs its own main whatever module it is given.
    throw new ProcessError(
      `Cannot start "${options.name}" in an OS process: this program is a single-file bundle (bun build --compile), which cannot start one of its own modules as a child process; use the "thread" start method here`,
    );
  }
  const parent = identity();
  const init: ProcessInit<P> = {
    identity: {
      ident: 0, // the child takes the main ident of its own shared area
      name: options.name,
      path: options.path,
      daemon: options.daemon,
      parent: { ident: parent.ident, name: parent.name, pid: parent.pid ?? parent.ident, os: true },
    },
    payload: options.payload,
  };
  let handle: ProcessHandle;
  try {
    // A heap bound is a flag of the child's runtime, fixed when it is forked: such a child
    // cannot come from the reserve.
    const warm = options.maxHeapMiB === undefined ? takeWarmProcess(entry.href, init, options.daemon) : null;
    handle = warm ?? runtime.fork({
      entry: entry.href,
      data: init,
      daemon: options.daemon,
      maxHeapMiB: options.maxHeapMiB,
    });
  } catch (cause) {
    if (cause instanceof TypeError) {
      throw new TypeError(`Cannot start "${options.name}": its data ${cause.message}`, { cause });
    }
    throw cause;
  }
  return new ProcessChild(handle);
}

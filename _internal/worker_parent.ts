// Parent side of starting a worker: one ident from the shared area, the child's identity,
// and one exit signal per worker whatever the runtime reports. Process and Pool both
// start their workers here.
import { runtime, type WorkerHandle } from "../_runtime/mod.ts";
import { splitEntry } from "./bundled.ts";
import { type Identity, identity } from "./identity.ts";
import { allocateIdent, type AreaExport, exportArea, markExited } from "./shared_area.ts";
import { takeWarm } from "./worker_reserve.ts";

/** Exit code after `terminate()`, as Python reports SIGTERM. */
export const TERMINATED = -15;
/** Exit code after `kill()`, as Python reports SIGKILL. */
export const KILLED = -9;

/** Exit code of a thread or program whose top-level await never settled. */
const UNSETTLED_AWAIT = 13;

/** What every worker receives first. */
export interface ChildInit<P> {
  area: AreaExport;
  identity: Identity;
  payload: P;
  /** Inside a single-file program: the entry the bundle runs in this worker (see bundled.ts). */
  bundled?: string;
}

/** Options for {@linkcode spawnChild}. */
export interface SpawnChildOptions<P> {
  /** Module the worker runs (`import.meta.url`-relative URL of an entry file). */
  entry: URL;
  /** Entry-specific data; must already be cloneable. */
  payload: P;
  name: string;
  path: number[];
  daemon: boolean;
  /** Give the worker an inbox it can poll (see `SpawnOptions.inbox`). */
  inbox?: boolean;
  /** The entry's runner, for a reserve worker that has it loaded (see `preloadInReserve`). */
  run?: URL;
}

/** A started worker as its parent sees it. */
export class Child {
  /** Unique ident of the worker. */
  readonly ident: number;
  /** The runtime handle, for messages. */
  readonly handle: WorkerHandle;
  /** Resolves with the exit code once the worker has ended. */
  readonly exited: Promise<number>;
  #exitCode: number | null = null;
  #forced: number | null = null;

  constructor(ident: number, handle: WorkerHandle, bundled = false) {
    this.ident = ident;
    this.handle = handle;
    this.exited = new Promise((resolve) => {
      handle.onExit((code) => {
        // A worker running a bundle holds the bundle's main code back with a top-level
        // await that never settles (see bundled.ts), so a clean end is reported as 13,
        // the code for an unsettled top-level await.
        if (bundled && code === UNSETTLED_AWAIT) code = 0;
        // A runtime reports 1 for a terminated worker; the parent knows better.
        this.#exitCode = this.#forced ?? code;
        markExited(ident, this.#exitCode);
        resolve(this.#exitCode);
      });
    });
  }

  /** The exit code, or `null` while the worker runs. */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** Stop the worker, recording `code` (-15 for terminate, -9 for kill) as its exit code. */
  stop(code: number): Promise<number> {
    if (this.#exitCode === null && this.#forced === null) {
      this.#forced = code;
      // Record at once: others must see the owner of a lock dead without waiting for the
      // runtime's exit event, which a worker blocked in a wait may delay.
      markExited(this.ident, code);
      void this.handle.terminate();
    }
    return this.exited;
  }
}

/**
 * Start a worker running `entry` as a child of this thread.
 *
 * @throws {TypeError} when the payload cannot be copied to the worker
 */
export function spawnChild<P>(options: SpawnChildOptions<P>): Child {
  const parent = identity();
  const ident = allocateIdent(parent.ident);
  const entry = splitEntry(options.entry);
  const init: ChildInit<P> = {
    bundled: entry.bundled,
    area: exportArea(),
    identity: {
      ident,
      name: options.name,
      path: options.path,
      daemon: options.daemon,
      parent: { ident: parent.ident, name: parent.name, pid: parent.pid },
    },
    payload: options.payload,
  };
  let handle: WorkerHandle;
  try {
    // A bundle's workers start cold: a reserve worker would run the whole bundle.
    const warm = entry.bundled === undefined ? takeWarm(entry.href, init, options.daemon, options.run?.href) : null;
    handle = warm ?? runtime.spawn({
      entry: entry.href,
      data: init,
      daemon: options.daemon,
      name: options.name,
      inbox: options.inbox,
    });
  } catch (cause) {
    markExited(ident, 1);
    if (cause instanceof Error && cause.name === "DataCloneError") {
      throw new TypeError(
        `Cannot start "${options.name}": its arguments cannot be copied to a worker: ${cause.message}`,
        {
          cause,
        },
      );
    }
    throw cause;
  }
  return new Child(ident, handle, entry.bundled !== undefined);
}

// A reserve of started, idle workers, Python's forkserver idea for threads: starting a
// worker costs a runtime boot (10-40 ms here), so each thread that starts workers keeps a
// few booted ones with the package's child side loaded and no work yet, and hands one
// over, with its identity and entry, when a Process or a pool needs a worker. Taking one
// refills the reserve in the background. Reserve workers are unref'd, so they never keep
// a program alive, and they load no user module until they are given work. While idle
// they load the runners of the package's entries (see preloadInReserve), so that a taken
// worker imports only the user's module.
import { runtime, type WorkerHandle } from "../_runtime/mod.ts";
import { entryBeside, splitEntry } from "./bundled.ts";
import { deadlineOf, timeLeft } from "./deadline.ts";
import { waitSliceAsync } from "./futex.ts";
import { refiller } from "./refill.ts";
import { reserveSize, setReserveSize } from "./shared_area.ts";

/** Reserve size until a program sets one: enough for a start now and then. */
export const DEFAULT_RESERVE = 1;

const ENTRY = entryBeside(import.meta.url, "worker_reserve", "reserve_entry").href;
// Inside a single-file bundle a reserve worker would run the whole program: no reserve there.
const BUNDLED = splitEntry(new URL(ENTRY)).bundled !== undefined;

/** What a reserve worker is started with. */
export interface ReserveData {
  /** Word 0 turns 1 once the worker has booted, loaded `preload` and waits for work. */
  ready: SharedArrayBuffer;
  /** Runner modules to load while idle (see {@linkcode preloadInReserve}). */
  preload: string[];
}

interface Warm {
  handle: WorkerHandle;
  ready: Int32Array;
  /** The environment the worker copied when it was created. */
  env: string;
}

/** Milliseconds a taken worker has before its replacement starts booting. */
const REFILL_MS = 30;

const idle: Warm[] = [];
let taken = 0;
const runners: string[] = [];

/**
 * Have reserve workers started from now on load `url` while idle: a module whose `run()`
 * does what importing some entry does, and which runs nothing when imported. A take that
 * names it as its runner then skips the entry's import, a millisecond or more.
 */
export function preloadInReserve(url: URL): void {
  if (!runners.includes(url.href)) runners.push(url.href);
}

/** The reserve size of the program. */
export function getReserveSize(): number {
  return reserveSize(DEFAULT_RESERVE);
}

/**
 * Set the reserve size of the program; workers beyond it are stopped now, missing ones
 * are started the next time a worker is taken.
 */
export function setReserve(size: number): void {
  setReserveSize(size);
  while (idle.length > size) void idle.pop()!.handle.terminate();
}

function startOne(): void {
  const ready = new SharedArrayBuffer(4);
  const data: ReserveData = { ready, preload: runners };
  const handle = runtime.spawn({ entry: ENTRY, data, daemon: true, name: "mproc-reserve", inbox: true });
  const warm: Warm = { handle, ready: new Int32Array(ready), env: runtime.envSnapshot() };
  idle.push(warm);
  // One that dies idle (its thread failed to boot) leaves the reserve; one already taken
  // is no longer in it.
  handle.onExit(() => {
    const at = idle.indexOf(warm);
    if (at >= 0) idle.splice(at, 1);
  });
}

/** Start the reserve workers that are missing. */
export function fill(): void {
  if (BUNDLED) return;
  const size = getReserveSize();
  while (idle.length < size) startOne();
}

const refill = refiller(fill);

/** Refill the reserve in `ms` (see {@linkcode refiller}). */
function queueRefill(ms: number): void {
  if (getReserveSize() > 0) refill(ms);
}

/**
 * Hand a reserve worker the work a new worker would be started with, or return `null`
 * when none is ready to take it (the caller starts one the usual way). Either way the
 * reserve is refilled in the background. `run` names the entry's runner, when it has one
 * (see {@linkcode preloadInReserve}).
 *
 * @throws {TypeError} (a `DataCloneError`) when `data` cannot be copied to a worker; the
 * worker stays in the reserve
 */
export function takeWarm(entry: string, data: unknown, daemon: boolean, run?: string): WorkerHandle | null {
  if (idle.length === 0) {
    queueRefill(0);
    return null;
  }
  // A worker holds a copy of the environment from when it was created: one made before
  // a change would run its target with stale variables, so it is replaced instead.
  const env = runtime.envSnapshot();
  for (let i = idle.length - 1; i >= 0; i--) {
    if (idle[i].env !== env) void idle.splice(i, 1)[0].handle.terminate();
  }
  const warm = idle.shift();
  if (warm === undefined) {
    queueRefill(0);
    return null;
  }
  try {
    warm.handle.post({ entry, data, run });
  } catch (error) {
    idle.unshift(warm);
    throw error;
  }
  if (!daemon) warm.handle.ref();
  taken++;
  // Booting the replacement would compete for the CPU with the worker just handed out, so
  // it waits until that worker has ended or has had REFILL_MS to get going.
  queueRefill(REFILL_MS);
  warm.handle.onExit(() => queueRefill(0));
  return warm.handle;
}

/**
 * Fill the reserve and wait until every worker in it has booted; whether they all had
 * within `timeout` ms.
 */
export async function warmUp(timeout: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
  fill();
  const deadline = deadlineOf(timeout);
  for (;;) {
    const booting = idle.find((w) => Atomics.load(w.ready, 0) === 0);
    if (booting === undefined) return true;
    if (timeLeft(deadline) === 0) return false;
    await waitSliceAsync(booting.ready, 0, 0, deadline, signal);
  }
}

/** Workers in the reserve now, booted or booting. */
export function reserved(): number {
  return idle.length;
}

/** Workers this thread has taken from its reserve so far. */
export function takenFromReserve(): number {
  return taken;
}

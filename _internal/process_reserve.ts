// The worker reserve for OS child processes (see worker_reserve.ts for threads): children
// forked ahead of need that have loaded their entry and wait for their data, one reserve
// per entry this thread has started children on. The same size setting, the same rules:
// unref'd until taken, and one forked before a change to the environment or the working
// directory is stopped, not used.
import { type ProcessHandle, runtime } from "../_runtime/mod.ts";
import { refiller } from "./refill.ts";
import { getReserveSize } from "./worker_reserve.ts";

/** Milliseconds a taken child has before its replacement is forked. */
const REFILL_MS = 30;

interface Warm {
  handle: ProcessHandle;
  booted: boolean;
  /** Resolves once the child has booted or ended. */
  settled: Promise<void>;
  env: string;
}

const idle = new Map<string, Warm[]>();
const refills = new Map<string, (ms: number) => void>();

function startOne(entry: string, list: Warm[]): void {
  const handle = runtime.fork({ entry, daemon: true });
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const warm: Warm = { handle, booted: false, settled, env: runtime.envSnapshot() };
  list.push(warm);
  handle.onBooted(() => {
    warm.booted = true;
    settle();
  });
  handle.onExit(() => {
    const at = list.indexOf(warm);
    if (at >= 0) list.splice(at, 1);
    settle();
  });
}

function fillEntry(entry: string): void {
  const list = idle.get(entry) ?? [];
  idle.set(entry, list);
  const size = getReserveSize();
  while (list.length < size) startOne(entry, list);
}

/** Fork the reserve children that are missing, for every entry seen so far. */
export function fillProcesses(): void {
  for (const entry of idle.keys()) fillEntry(entry);
}

/** Stop reserve children beyond `size`. */
export function trimProcesses(size: number): void {
  for (const list of idle.values()) while (list.length > size) list.pop()!.handle.kill("SIGTERM");
}

/** A promise that settles when some reserve child still booting has booted or ended; `null` when none is booting. */
export function nextProcessBoot(): Promise<void> | null {
  const booting: Promise<void>[] = [];
  for (const list of idle.values()) for (const w of list) if (!w.booted) booting.push(w.settled);
  return booting.length === 0 ? null : Promise.race(booting);
}

function queueRefill(entry: string, ms: number): void {
  if (getReserveSize() === 0) return;
  let refill = refills.get(entry);
  if (refill === undefined) refills.set(entry, refill = refiller(() => fillEntry(entry)));
  refill(ms);
}

/**
 * Hand a reserve child of `entry` its data, or return `null` when there is none (the
 * caller forks one); either way the reserve of `entry` is refilled in the background.
 *
 * @throws {TypeError} when `data` cannot be copied to another process; the child stays in
 * the reserve
 */
export function takeWarmProcess(entry: string, data: unknown, daemon: boolean): ProcessHandle | null {
  const list = idle.get(entry);
  if (list === undefined || list.length === 0) {
    if (list === undefined) idle.set(entry, []);
    queueRefill(entry, 0);
    return null;
  }
  const env = runtime.envSnapshot();
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i].env !== env) list.splice(i, 1)[0].handle.kill("SIGTERM");
  }
  const warm = list.shift();
  if (warm === undefined) {
    queueRefill(entry, 0);
    return null;
  }
  try {
    warm.handle.post(data);
  } catch (error) {
    list.unshift(warm);
    throw error;
  }
  if (!daemon) warm.handle.ref();
  queueRefill(entry, REFILL_MS);
  warm.handle.onExit(() => queueRefill(entry, 0));
  return warm.handle;
}

/** Reserve children of `entry` now, booted or booting. */
export function reservedProcesses(entry: string): number {
  return idle.get(entry)?.length ?? 0;
}

/** Pids of every reserve child now. */
export function reservedProcessPids(): number[] {
  return [...idle.values()].flatMap((list) => list.map((w) => w.handle.pid));
}

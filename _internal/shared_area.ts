// The program-wide shared area: SharedArrayBuffers created by the main thread and handed
// to every worker at spawn, nested ones too. It holds the ident counter and the liveness
// table that robust locks, pipes and pools read to learn that a worker is gone, and the
// name table and arena behind SharedMemory, all reached without a message to anyone (a
// blocked thread cannot receive messages).

/** Ident of the program's main thread. */
export const MAIN_IDENT = 1;

const HEADER = 16;
const SLOT = 4; // ident, state, exit code, parent ident
const CAPACITY = 4096;
const NEXT_IDENT = 0;
/** Size of every thread's worker reserve, plus one; 0 until a program sets it. */
const RESERVE = 1;

const ALIVE = 1;
const EXITED = 2;

/** Bytes of the SharedMemory name table (see name_table.ts for its layout). */
export const NAMES_BYTES = 2048 * 384;

/** What a worker receives to join the shared area. */
export interface AreaExport {
  /** Ident counter and liveness table. */
  control: SharedArrayBuffer;
  /** The SharedMemory name table. */
  names: SharedArrayBuffer;
  /** The growable SharedArrayBuffer every SharedMemory block lives in. */
  arena: SharedArrayBuffer;
}

let area: AreaExport | undefined;
let table: Int32Array | undefined;

// The arena reserves address space up to its maximum and commits pages only as it grows
// and as they are touched. 4 GiB is the largest maximum Node accepts; a smaller one is a
// fallback for hosts that refuse the reservation.
function createArena(): SharedArrayBuffer {
  for (const max of [2 ** 32, 2 ** 30, 2 ** 28]) {
    try {
      return new SharedArrayBuffer(0, { maxByteLength: max });
    } catch (error) {
      if (!(error instanceof RangeError) && !(error instanceof Error && /memory/i.test(error.message))) throw error;
    }
  }
  return new SharedArrayBuffer(0, { maxByteLength: 2 ** 24 });
}

function create(): AreaExport {
  const t = new Int32Array(new SharedArrayBuffer((HEADER + CAPACITY * SLOT) * 4));
  t[NEXT_IDENT] = MAIN_IDENT + 1;
  const s = slotOf(MAIN_IDENT);
  t[s] = MAIN_IDENT;
  t[s + 1] = ALIVE;
  return { control: t.buffer as SharedArrayBuffer, names: new SharedArrayBuffer(NAMES_BYTES), arena: createArena() };
}

function shared(): AreaExport {
  return area ??= create();
}

function control(): Int32Array {
  return table ??= new Int32Array(shared().control);
}

/** The SharedMemory name table and arena of this program. */
export function namesAndArena(): { names: SharedArrayBuffer; arena: SharedArrayBuffer } {
  const { names, arena } = shared();
  return { names, arena };
}

function slotOf(ident: number): number {
  return HEADER + (ident % CAPACITY) * SLOT;
}

/** The area to pass to a new worker. */
export function exportArea(): AreaExport {
  return shared();
}

/** Join the area a parent passed; called first thing in a worker. */
export function adoptArea(from: AreaExport): void {
  area = from;
  table = new Int32Array(from.control);
}

/**
 * Whether the worker `ident` is running. A worker whose parent has ended counts as ended
 * too, because the runtime ends nested workers with their parent, and only the parent
 * would have recorded their exit.
 */
export function isAlive(ident: number): boolean {
  const t = control();
  for (let id = ident; id !== MAIN_IDENT;) {
    const s = slotOf(id);
    if (Atomics.load(t, s) !== id || Atomics.load(t, s + 1) !== ALIVE) return false;
    id = Atomics.load(t, s + 3);
  }
  return true;
}

/** The exit code recorded for `ident`, or `null` while it runs or when it is no longer known. */
export function exitCodeOf(ident: number): number | null {
  const t = control();
  const s = slotOf(ident);
  if (Atomics.load(t, s) !== ident || Atomics.load(t, s + 1) !== EXITED) return null;
  return Atomics.load(t, s + 2);
}

/**
 * Take a fresh ident for a child of `parent` and mark it alive. Idents are unique for
 * the life of the program; a slot is reused only once its previous owner has ended.
 */
export function allocateIdent(parent: number): number {
  const t = control();
  for (let tries = 0; tries < CAPACITY * 4; tries++) {
    const id = Atomics.add(t, NEXT_IDENT, 1);
    const s = slotOf(id);
    const old = Atomics.load(t, s);
    if (id === MAIN_IDENT || old < 0 || (old !== 0 && isAlive(old))) continue;
    // Claim the slot: the ident word is written last so a reader never pairs the new
    // ident with the old state.
    if (Atomics.compareExchange(t, s, old, -id) !== old) continue;
    Atomics.store(t, s + 1, ALIVE);
    Atomics.store(t, s + 2, 0);
    Atomics.store(t, s + 3, parent);
    Atomics.store(t, s, id);
    return id;
  }
  throw new RangeError(`Cannot start another worker: more than ${CAPACITY} workers are alive at once`);
}

/**
 * The program-wide size of the worker reserve (see worker_reserve.ts), or `fallback` until
 * some thread has set one. In the shared area, so a setting in any thread holds in all.
 */
export function reserveSize(fallback: number): number {
  const v = Atomics.load(control(), RESERVE);
  return v === 0 ? fallback : v - 1;
}

/** Set the program-wide size of the worker reserve. */
export function setReserveSize(size: number): void {
  Atomics.store(control(), RESERVE, size + 1);
}

/** Record that `ident` ended with `code`. The first record wins. */
export function markExited(ident: number, code: number): void {
  const t = control();
  const s = slotOf(ident);
  if (Atomics.load(t, s) !== ident) return;
  if (Atomics.compareExchange(t, s + 1, ALIVE, EXITED) === ALIVE) Atomics.store(t, s + 2, code);
}

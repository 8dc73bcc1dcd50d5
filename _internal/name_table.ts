// The SharedMemory name table: name → block of the program-wide arena, kept in shared
// memory so that any thread attaches by name with a lookup under a lock and no message to
// anyone, even while the main thread is blocked in Atomics.wait.
//
// All blocks live in one growable SharedArrayBuffer (the arena, reserved up to 4 GiB,
// committed as it grows), so every thread already holds the buffer a name points into.
// Free space is not kept in a list: an allocation walks the blocks the table records, in
// address order, and takes the first gap that fits (else grows the arena at its end).
//
// Each entry counts the open handles per holding thread. A block whose name is unlinked
// is freed once no live thread holds a handle: handles of threads that have ended are
// swept through the liveness table, so a worker killed with its handles open does not
// keep a block forever.
//
// Table layout (Int32 words): a header, then ENTRIES entries of ENTRY words.
import { runtime } from "../_runtime/mod.ts";
import { waitSlice, waitSliceAsync, wake } from "./futex.ts";
import { identity } from "./identity.ts";
import { isAlive, NAMES_BYTES, namesAndArena } from "./shared_area.ts";

const LOCK = 0; // owner ident, 0 when free
const USED = 1; // entries ever used: scans stop there
const FRESH = 2; // arena units never handed out start here (they are still zero)
const HEADER = 16;

const ENTRY = 96;
const ENTRIES = Math.floor((NAMES_BYTES / 4 - HEADER) / ENTRY);
const STATE = 0;
const GENERATION = 1;
const HASH = 2;
const NAME_LENGTH = 3;
const OFFSET = 4; // in UNIT bytes
const SPAN = 5; // in UNIT bytes
const SIZE = 6; // bytes, unsigned
const OVERFLOW = 7; // handles of threads beyond the HOLDERS slots
const HOLDS = 8; // HOLDERS pairs (ident, count)
const HOLDERS = 12;
const NAME = HOLDS + HOLDERS * 2; // name bytes up to the end of the entry

/** Longest name, in UTF-8 bytes (POSIX NAME_MAX). */
export const MAX_NAME_BYTES = 255;

const FREE = 0;
const CREATING = 1; // reserved, being zeroed: not visible to attach yet
const LIVE = 2;
const UNLINKED = 3; // name removed; memory kept until its last handle closes

/** Blocks start on 64-byte boundaries: typed arrays of any width fit, no cache line is shared. */
const UNIT = 64;
const GROW_STEP = 1 << 20;

/** Where an open block lives, as a handle records it. */
export interface Block {
  /** Entry index in the table. */
  index: number;
  /** The entry's generation when the block was opened: a stale handle never touches a reused entry. */
  generation: number;
  offset: number;
  size: number;
}

/** Why an operation on the table failed; the caller turns it into its public error. */
export type Failure = "exists" | "not found" | "full" | "no slot";

let words: Int32Array | undefined;
let nameBytes: Uint8Array | undefined;
let arenaBuffer: SharedArrayBuffer | undefined;

function table(): Int32Array {
  if (words === undefined) {
    const { names, arena } = namesAndArena();
    words = new Int32Array(names);
    nameBytes = new Uint8Array(names);
    arenaBuffer = arena;
  }
  return words;
}

/** The arena every block lives in. */
export function arena(): SharedArrayBuffer {
  table();
  return arenaBuffer!;
}

const encoder = new TextEncoder();

/** The name as UTF-8, or null when it is longer than {@linkcode MAX_NAME_BYTES}. */
export function encodeName(name: string): Uint8Array | null {
  const bytes = encoder.encode(name);
  return bytes.length > MAX_NAME_BYTES ? null : bytes;
}

function hashOf(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h | 0;
}

// The table lock: a word holding the owner's ident, taken with one CAS, held for a few
// microseconds. So a waiter spins that long before it sleeps (a futex wake costs ~43 µs
// here), then sleeps in bounded slices. Robust like every lock here: a holder that ended
// is taken over.
const SPIN_MS = 0.05;

/** Take the lock now if free or held by a thread that ended; else return the holder's word. */
function tryLock(t: Int32Array, me: number, checkOwner: boolean): number {
  const c = Atomics.compareExchange(t, LOCK, 0, me);
  if (c === 0) return 0;
  if (checkOwner && !isAlive(c) && Atomics.compareExchange(t, LOCK, c, me) === c) return 0;
  return c;
}

function spin(t: Int32Array, me: number): boolean {
  const until = performance.now() + SPIN_MS;
  do {
    if (Atomics.load(t, LOCK) === 0 && Atomics.compareExchange(t, LOCK, 0, me) === 0) return true;
  } while (performance.now() < until);
  return false;
}

function lock(): Int32Array {
  const t = table();
  const me = identity().ident;
  if (tryLock(t, me, false) === 0 || spin(t, me)) return t;
  for (;;) {
    const c = tryLock(t, me, true);
    if (c === 0) return t;
    // A thread that may not block keeps spinning: the lock is only ever held briefly.
    if (runtime.canBlock) waitSlice(t, LOCK, c, Infinity);
  }
}

async function lockAsync(): Promise<Int32Array> {
  const t = table();
  const me = identity().ident;
  if (tryLock(t, me, false) === 0 || spin(t, me)) return t;
  for (;;) {
    const c = tryLock(t, me, true);
    if (c === 0) return t;
    await waitSliceAsync(t, LOCK, c, Infinity);
  }
}

function unlock(t: Int32Array): void {
  Atomics.store(t, LOCK, 0);
  wake(t, LOCK, 1);
}

function entry(i: number): number {
  return HEADER + i * ENTRY;
}

function find(t: Int32Array, name: Uint8Array, hash: number, states: readonly number[]): number {
  const used = t[USED];
  for (let i = 0; i < used; i++) {
    const e = entry(i);
    if (!states.includes(t[e + STATE]) || t[e + HASH] !== hash || t[e + NAME_LENGTH] !== name.length) continue;
    const at = (e + NAME) * 4;
    let same = true;
    for (let k = 0; k < name.length && same; k++) same = nameBytes![at + k] === name[k];
    if (same) return i;
  }
  return -1;
}

function addHold(t: Int32Array, e: number, me: number): void {
  let spare = -1;
  for (let h = 0; h < HOLDERS; h++) {
    const at = e + HOLDS + h * 2;
    if (t[at] === me && t[at + 1] > 0) {
      t[at + 1]++;
      return;
    }
    if (spare === -1 && (t[at + 1] === 0 || !isAlive(t[at]))) spare = at;
  }
  if (spare === -1) {
    t[e + OVERFLOW]++;
    return;
  }
  t[spare] = me;
  t[spare + 1] = 1;
}

function dropHold(t: Int32Array, e: number, me: number): void {
  for (let h = 0; h < HOLDERS; h++) {
    const at = e + HOLDS + h * 2;
    if (t[at] === me && t[at + 1] > 0) {
      t[at + 1]--;
      return;
    }
  }
  if (t[e + OVERFLOW] > 0) t[e + OVERFLOW]--;
}

function held(t: Int32Array, e: number): boolean {
  if (t[e + OVERFLOW] > 0) return true;
  for (let h = 0; h < HOLDERS; h++) {
    const at = e + HOLDS + h * 2;
    if (t[at + 1] > 0 && isAlive(t[at])) return true;
  }
  return false;
}

function release(t: Int32Array, e: number): void {
  t.fill(0, e + OVERFLOW, e + NAME);
  Atomics.store(t, e + STATE, FREE);
}

// Blocks no live thread can reach any more: unlinked with no handle left, or reserved by a
// creator that ended before publishing.
function sweep(t: Int32Array): void {
  const used = t[USED];
  for (let i = 0; i < used; i++) {
    const e = entry(i);
    const state = t[e + STATE];
    if ((state === UNLINKED || state === CREATING) && !held(t, e)) release(t, e);
  }
}

// First fit among the gaps between recorded blocks; the end of the arena otherwise.
function place(t: Int32Array, units: number): number {
  const blocks: [number, number][] = [];
  const used = t[USED];
  for (let i = 0; i < used; i++) {
    const e = entry(i);
    if (t[e + STATE] !== FREE) blocks.push([t[e + OFFSET], t[e + SPAN]]);
  }
  blocks.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [offset, span] of blocks) {
    if (offset - at >= units) return at;
    at = Math.max(at, offset + span);
  }
  return at;
}

function ensureArena(endBytes: number): boolean {
  const a = arena();
  if (endBytes <= a.byteLength) return true;
  if (endBytes > a.maxByteLength) return false;
  a.grow(Math.min(a.maxByteLength, Math.ceil(endBytes / GROW_STEP) * GROW_STEP));
  return true;
}

function freeSlot(t: Int32Array): number {
  const used = t[USED];
  for (let i = 0; i < used; i++) if (t[entry(i) + STATE] === FREE) return i;
  if (used === ENTRIES) return -1;
  t[USED] = used + 1;
  return used;
}

/**
 * Reserve a zeroed block of `size` bytes under `name`, held once by this thread.
 *
 * @returns the block, or why not
 */
export function createBlock(name: Uint8Array, size: number): Block | Failure {
  const hash = hashOf(name);
  const units = Math.ceil(size / UNIT);
  let t = lock();
  let block: Block;
  let dirtyEnd: number;
  try {
    if (find(t, name, hash, [LIVE, CREATING]) !== -1) return "exists";
    sweep(t);
    const offset = place(t, units);
    if (!ensureArena((offset + units) * UNIT)) return "full";
    const i = freeSlot(t);
    if (i === -1) return "no slot";
    const e = entry(i);
    t[e + GENERATION]++;
    t[e + HASH] = hash;
    t[e + NAME_LENGTH] = name.length;
    nameBytes!.set(name, (e + NAME) * 4);
    t[e + OFFSET] = offset;
    t[e + SPAN] = units;
    t[e + SIZE] = size;
    addHold(t, e, identity().ident);
    Atomics.store(t, e + STATE, CREATING);
    dirtyEnd = Math.min(offset + units, t[FRESH]);
    if (offset + units > t[FRESH]) t[FRESH] = offset + units;
    block = { index: i, generation: t[e + GENERATION], offset: offset * UNIT, size };
  } finally {
    unlock(t);
  }
  // Reused memory is zeroed outside the lock, so a big block does not stall other threads'
  // attaches; nobody can see the block until it is LIVE.
  if (dirtyEnd * UNIT > block.offset) new Uint8Array(arena(), block.offset, dirtyEnd * UNIT - block.offset).fill(0);
  t = table();
  Atomics.store(t, entry(block.index) + STATE, LIVE);
  return block;
}

function attachLocked(t: Int32Array, name: Uint8Array): Block | "not found" {
  const i = find(t, name, hashOf(name), [LIVE]);
  if (i === -1) return "not found";
  const e = entry(i);
  addHold(t, e, identity().ident);
  return { index: i, generation: t[e + GENERATION], offset: t[e + OFFSET] * UNIT, size: t[e + SIZE] >>> 0 };
}

/** Open a handle on the live block named `name`, blocking this thread briefly if the table is busy. */
export function attachBlock(name: Uint8Array): Block | "not found" {
  const t = lock();
  try {
    return attachLocked(t, name);
  } finally {
    unlock(t);
  }
}

/** Open a handle on the live block named `name` without blocking this thread. */
export async function attachBlockAsync(name: Uint8Array): Promise<Block | "not found"> {
  const t = await lockAsync();
  try {
    return attachLocked(t, name);
  } finally {
    unlock(t);
  }
}

/**
 * Open another handle on a block some handle still holds, whether or not its name was
 * unlinked since: how a handle passed to another thread arrives there.
 */
export function reopenBlock(index: number, generation: number): Block | "not found" {
  const t = lock();
  try {
    const e = entry(index);
    const state = t[e + STATE];
    if (t[e + GENERATION] !== generation || (state !== LIVE && !(state === UNLINKED && held(t, e)))) {
      return "not found";
    }
    addHold(t, e, identity().ident);
    return { index, generation, offset: t[e + OFFSET] * UNIT, size: t[e + SIZE] >>> 0 };
  } finally {
    unlock(t);
  }
}

/** Close one handle of this thread on the block; frees the block if it was its last and the name is gone. */
export function closeBlock(index: number, generation: number, ident: number = identity().ident): void {
  const t = lock();
  try {
    const e = entry(index);
    if (t[e + GENERATION] !== generation || t[e + STATE] === FREE) return;
    dropHold(t, e, ident);
    if (t[e + STATE] === UNLINKED && !held(t, e)) release(t, e);
  } finally {
    unlock(t);
  }
}

/** Remove the block's name; frees it at once when no handle is open. */
export function unlinkBlock(index: number, generation: number): "not found" | null {
  const t = lock();
  try {
    const e = entry(index);
    if (t[e + GENERATION] !== generation || t[e + STATE] !== LIVE) return "not found";
    Atomics.store(t, e + STATE, UNLINKED);
    if (!held(t, e)) release(t, e);
    return null;
  } finally {
    unlock(t);
  }
}

/** Whether the block's memory has gone back to the arena (for tests and diagnostics). */
export function isFreed(index: number, generation: number): boolean {
  const t = table();
  const e = entry(index);
  return Atomics.load(t, e + GENERATION) !== generation || Atomics.load(t, e + STATE) === FREE;
}

/** Totals for tests and diagnostics: blocks in the table and the arena's committed size. */
export function usage(): { blocks: number; bytesInUse: number; arenaBytes: number; maxBytes: number } {
  const t = lock();
  try {
    let blocks = 0;
    let units = 0;
    for (let i = 0; i < t[USED]; i++) {
      const e = entry(i);
      if (t[e + STATE] === FREE) continue;
      blocks++;
      units += t[e + SPAN];
    }
    const a = arena();
    return { blocks, bytesInUse: units * UNIT, arenaBytes: a.byteLength, maxBytes: a.maxByteLength };
  } finally {
    unlock(t);
  }
}

// The handle tables of a pipe's two ends, and the hand-over of a Connection's state to
// its constructor.
import { isAlive } from "../_internal/shared_area.ts";
import type { RingState } from "./_ring.ts";

// The handle tables of a pipe's two ends, in one SharedArrayBuffer: a count of open
// handles per end, then a table of holders per end (the ident of the thread holding
// each handle, 0 for a free slot). A handle is one Connection object in one thread; a
// copy sent to another thread is a new handle, claimed for the sender until the
// receiver revives it, so the sender may close its own copy at once.
/** Index of end 0's open-handle count; end 1's follows. */
export const OPEN = 0;
const TABLE = 4;
/** Handles of one end that may be open at once, across all threads. */
const SLOTS = 64;
const WORDS = TABLE + 2 * SLOTS;

/** Bytes of a pipe's ring in each direction, unless given. */
export const PIPE_BYTES = 64 * 1024;

/** A pipe's shared parts, as they cross to another thread. */
export interface ConnectionState {
  ends: SharedArrayBuffer;
  end: number;
  slot: number;
  sender: number;
  input: RingState | null;
  output: RingState | null;
}

/** Make the handle tables of a new pipe. */
export function newEnds(): SharedArrayBuffer {
  return new SharedArrayBuffer(WORDS * 4);
}

/** Claim a free slot of `end` for `ident`; returns its index. */
export function takeSlot(ends: Int32Array, end: number, ident: number): number {
  const base = TABLE + end * SLOTS;
  for (let i = base; i < base + SLOTS; i++) {
    const v = Atomics.load(ends, i);
    if (v === 0 && Atomics.compareExchange(ends, i, 0, ident) === 0) {
      Atomics.add(ends, OPEN + end, 1);
      return i;
    }
    // A slot whose holder ended is free to take; the open count already includes it.
    if (v !== 0 && !isAlive(v) && Atomics.compareExchange(ends, i, v, ident) === v) return i;
  }
  throw new RangeError(`Cannot open another handle of a connection: ${SLOTS} handles of one end are open`);
}

/** Whether some handle of `end` is open in a live thread. */
export function anyAlive(ends: Int32Array, end: number): boolean {
  if (Atomics.load(ends, OPEN + end) === 0) return false;
  const base = TABLE + end * SLOTS;
  for (let i = base; i < base + SLOTS; i++) {
    const v = Atomics.load(ends, i);
    if (v !== 0 && isAlive(v)) return true;
  }
  return false;
}

/** Give a slot back. */
export function freeSlot(ends: Int32Array, end: number, slot: number): void {
  Atomics.store(ends, slot, 0);
  Atomics.sub(ends, OPEN + end, 1);
}

let adopted: ConnectionState | undefined;

/** Build the next Connection over `state`. */
export function adoptConnection(state: ConnectionState): void {
  adopted = state;
}

/** The state the Connection being built runs over. */
export function takeAdopted(): ConnectionState | undefined {
  const state = adopted;
  adopted = undefined;
  return state;
}

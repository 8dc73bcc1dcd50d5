// Task module for the shared-memory examples: each function runs in its own worker thread
// and receives live shared objects through its arguments.
import { type RWLock, ShareableList, type SharedArray, SharedMemory, type Value } from "../mod.ts";

/** Add one to the counter `n` times, holding its lock around each read-modify-write. */
export function count(counter: Value<"i">, n: number): void {
  const lock = counter.getLock();
  for (let i = 0; i < n; i++) {
    using _ = lock.holdSync();
    counter.value += 1;
  }
}

/** Fill part `part` of `parts` of the array with sin(i), straight through its view (no lock: the parts are disjoint). */
export function fillPart(array: SharedArray<"d">, part: number, parts: number): void {
  const view = array.view;
  const lo = Math.floor((view.length * part) / parts);
  const hi = Math.floor((view.length * (part + 1)) / parts);
  for (let i = lo; i < hi; i++) view[i] = Math.sin(i);
}

/**
 * Read the block named `name` under the read side of `rw` until the writer has published
 * `rounds` versions, checking each time that every word holds the same version (a torn
 * write would mix two). Returns how many reads it made.
 */
export function reader(name: string, rw: RWLock, rounds: number): number {
  using shm = SharedMemory.attachSync(name); // attach by name, as a separate program would
  const words = new Int32Array(shm.buf.buffer, shm.buf.byteOffset, shm.size / 4);
  let reads = 0;
  for (;;) {
    using _ = rw.readSync();
    const version = words[0];
    for (let i = 1; i < words.length; i++) {
      if (words[i] !== version) throw new Error(`torn read: word ${i} is ${words[i]}, word 0 is ${version}`);
    }
    reads++;
    if (version === rounds) return reads;
  }
}

/** Publish versions 1..rounds into the block, every word at once, under the write side of `rw`. */
export function writer(shm: SharedMemory, rw: RWLock, rounds: number): void {
  const words = new Int32Array(shm.buf.buffer, shm.buf.byteOffset, shm.size / 4);
  for (let version = 1; version <= rounds; version++) {
    using _ = rw.writeSync();
    words.fill(version);
  }
}

/** Python's docs example: set the Value, negate every item of the Array. */
export function negate(n: Value<"d">, a: SharedArray<"i">): void {
  n.value = 3.1415927;
  for (let i = 0; i < a.length; i++) a.set(i, -a.get(i));
}

/** Add one to every item `rounds` times, holding the array's lock around each whole pass. */
export function bump(a: SharedArray<"i">, rounds: number): void {
  for (let r = 0; r < rounds; r++) {
    using _ = a.getLock().holdSync();
    for (let i = 0; i < a.length; i++) a.set(i, a.get(i) + 1);
  }
}

/** Attach to a ShareableList by name, as another program would, and change two items. */
export function editList(name: string): void {
  using list = ShareableList.attachSync(name);
  list.set(0, "hi");
  list.set(3, (list.get(3) as number) * 2);
}

// Worker targets for the shm tests. They receive live Values, arrays and SharedMemory
// handles through args, and report through a Box.
import { Process } from "../../process/mod.ts";
import type { RawArray, SharedArray } from "../../shm/array.ts";
import { ShareableList } from "../../shm/shareable_list.ts";
import { SharedMemory } from "../../shm/shared_memory.ts";
import type { RawValue, Value } from "../../shm/value.ts";
import { task } from "../../task.ts";
import type { Box } from "./box.ts";

/** One sample per typecode and name: [typecode, value written, value read back as a string]. */
export const SAMPLES: readonly [string, unknown, string][] = [
  ["b", -100, "-100"],
  ["B", 300, "44"],
  ["h", 40000, "-25536"],
  ["H", 60000, "60000"],
  ["i", -2_000_000_000, "-2000000000"],
  ["I", 4_000_000_000, "4000000000"],
  ["l", -(2n ** 62n), String(-(2n ** 62n))],
  ["L", 2n ** 64n - 1n, String(2n ** 64n - 1n)],
  ["q", 2n ** 63n, String(-(2n ** 63n))],
  ["Q", -1n, String(2n ** 64n - 1n)],
  ["f", 1.5, "1.5"],
  ["d", Math.PI, String(Math.PI)],
  ["c", "Z", "Z"],
  ["?", true, "true"],
  ["int8", 127, "127"],
  ["uint8", 255, "255"],
  ["int16", -2, "-2"],
  ["uint16", -1, "65535"],
  ["int32", 2 ** 31, String(-(2 ** 31))],
  ["uint32", 7, "7"],
  ["int64", 5, "5"],
  ["uint64", 9n, "9"],
  ["float32", 0.25, "0.25"],
  ["float64", -0.1, "-0.1"],
  ["char", 65, "A"],
  ["bool", false, "false"],
];

/** Write each sample into the value and into the last slot of the array of the same index. */
export function writeSamples(values: (Value | RawValue)[], arrays: (SharedArray | RawArray)[]): void {
  SAMPLES.forEach(([, v], k) => {
    values[k].value = v as never;
    arrays[k].set(-1, v as never);
  });
}

/** Report every value and every array's last item as strings. */
export function readSamples(values: (Value | RawValue)[], arrays: (SharedArray | RawArray)[], box: Box): void {
  box.write({ values: values.map((v) => String(v.value)), arrays: arrays.map((a) => String(a.get(-1))) });
}

/** `n` times: hold the value's lock and add one. */
export function increment(v: Value<"i">, n: number): void {
  const lock = v.getLock();
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    v.value += 1;
    lock.release();
  }
}

/** Fill quarter `q` of `a` through its view: item i becomes i * 0.5. */
export function fillQuarter(a: SharedArray<"d">, q: number): void {
  const quarter = a.length / 4;
  const view = a.view;
  for (let i = q * quarter; i < (q + 1) * quarter; i++) view[i] = i * 0.5;
}

/** Try the value's lock without waiting; report whether it was free. */
export function tryValueLock(v: Value, box: Box): void {
  const lock = v.getLock();
  const took = lock.acquireSync({ blocking: false });
  if (took) lock.release();
  box.write(took);
}

/** Optionally wait for the gate (raise flag 1, wait for flag 2), then attach by name, write 1 2 3 and raise flag 0. */
export function writeByName(name: string, box: Box, gate: boolean): void {
  if (gate) {
    box.raise(1);
    box.untilSync(2);
  }
  const shm = SharedMemory.attachSync(name);
  shm.buf.set([1, 2, 3]);
  shm.close();
  box.raise(0);
}

/** The same with the async attach. */
export async function writeByNameAsync(name: string, box: Box): Promise<void> {
  box.raise(1);
  box.untilSync(2);
  const shm = await SharedMemory.attach(name);
  shm.buf.set([4, 5, 6]);
  shm.close();
  box.raise(0);
}

/** Start a child of this worker that writes by name, and wait for it. */
export async function viaGrandchild(name: string, box: Box): Promise<void> {
  const p = new Process({ target: task(new URL(import.meta.url), "writeByName"), args: [name, box, false] });
  p.start();
  await p.join(20_000);
  if (p.exitCode !== 0) throw new Error(`grandchild exited with ${p.exitCode}`);
}

/** After the gate, create a block of `size` bytes named `name`, write its last byte, and keep it. */
export function createAfterGate(name: string, size: number, box: Box): void {
  box.raise(1);
  box.untilSync(2);
  const shm = SharedMemory.create({ name, size });
  shm.buf[size - 1] = 9;
  shm.close();
  box.raise(0);
}

/** Attach, raise flag 0, and block until flag 1 (the test terminates us first). */
export function holdHandle(name: string, box: Box): void {
  const shm = SharedMemory.attachSync(name);
  box.raise(0);
  box.untilSync(1, 60_000);
  shm.close();
}

/** Write through a handle received in args. */
export function writeThroughHandle(shm: SharedMemory, at: number, value: number): void {
  shm.buf[at] = value;
}

/** Change slot 0 of the list received in args, and slot 1 through a list attached by its name. */
export function editList(list: ShareableList, name: string): void {
  list.set(0, `${list.get(0)}!`.toUpperCase());
  const other = ShareableList.attachSync(name);
  other.set(1, (other.get(1) as bigint) * 2n);
  other.set(2, null);
  other.shm.close();
}

let fromInit: { counter: Value<"i">; list: ShareableList } | undefined;

/** Pool initializer: keep the shared objects from initargs. */
export function keepShared(counter: Value<"i">, list: ShareableList): void {
  fromInit = { counter, list };
}

/** Under the counter's lock, add `n` to the initargs counter and to item `i` of the initargs list. */
export function addFromInit(n: number, i: number): void {
  const { counter, list } = fromInit!;
  using _ = counter.getLock().holdSync();
  counter.value += n;
  list.set(i, (list.get(i) as number) + n);
}

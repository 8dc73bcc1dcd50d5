// Worker targets for the shm tests. They receive live Values, arrays and SharedMemory
// handles through args, and report through a Box.
import type { RawArray, SharedArray } from "../../shm/array.ts";
import type { RawValue, Value } from "../../shm/value.ts";
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

import assert from "node:assert/strict";
import { describe } from "node:test";
import { PACK_MIN, packNumbers } from "../../pool/_pack.ts";
import { encodeMapJobs } from "../../pool/_submit.ts";
import { test } from "../_helpers.ts";

const WHAT = "run map of task \"f\"";
const EDGES = [-0, 0, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2, -(2 ** 31) - 1, 0.1];

describe("packed number chunks", () => {
  test("a run of numbers packs exactly, edge values included", { timeout: 5_000 }, () => {
    const items = Array.from({ length: 3 * PACK_MIN }, (_, i) => EDGES[i % EDGES.length] ?? i);
    const packed = packNumbers(items, PACK_MIN, 3 * PACK_MIN)!;
    assert.ok(packed instanceof Float64Array);
    assert.equal(packed.length, 2 * PACK_MIN);
    for (let j = 0; j < packed.length; j++) assert.ok(Object.is(packed[j], items[PACK_MIN + j]), `item ${j}`);
  });

  test("a short run, or one holding anything but a number, stays plain", { timeout: 5_000 }, () => {
    const numbers = Array.from({ length: PACK_MIN }, (_, i) => i);
    assert.equal(packNumbers(numbers, 1, PACK_MIN), undefined);
    for (const odd of ["1", 1n, undefined, null, true, { x: 1 }, [1]]) {
      const items: unknown[] = numbers.slice();
      items[PACK_MIN - 1] = odd;
      assert.equal(packNumbers(items, 0, PACK_MIN), undefined, String(odd));
    }
    const holey = numbers.slice();
    delete holey[5];
    assert.equal(packNumbers(holey, 0, PACK_MIN), undefined);
  });

  test("a map packs each chunk of numbers and leaves the others plain", { timeout: 5_000 }, () => {
    const items: unknown[] = Array.from({ length: 4 * PACK_MIN }, (_, i) => i);
    items[2 * PACK_MIN + 3] = "three";
    const jobs = encodeMapJobs(items, PACK_MIN, false, WHAT).map((e) => e.value);
    assert.deepEqual(jobs.map((v) => v instanceof Float64Array), [true, true, false, true]);
    assert.deepEqual(jobs[2], items.slice(2 * PACK_MIN, 3 * PACK_MIN));
    // A starmap's chunks are argument lists: never packed.
    const pairs = Array.from({ length: PACK_MIN }, (_, i) => [i, i]);
    assert.ok(Array.isArray(encodeMapJobs(pairs, PACK_MIN, true, WHAT)[0].value));
  });
});

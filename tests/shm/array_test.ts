import assert from "node:assert/strict";
import { describe } from "node:test";
import { taskModule } from "../../process/mod.ts";
import { Array as PyArray, RawArray, SharedArray } from "../../shm/array.ts";
import { RLock } from "../../sync/rlock.ts";
import { test } from "../_helpers.ts";
import { runAll } from "../sync/_sync_helpers.ts";

const tasks = taskModule<typeof import("../testdata/shm_tasks.ts")>(
  new URL("../testdata/shm_tasks.ts", import.meta.url),
);

describe("SharedArray", () => {
  test("SharedArray is also exported as Array and takes a length or initial items", { timeout: 10_000 }, () => {
    assert.equal(PyArray, SharedArray);
    const zeros = new PyArray("i", 4);
    assert.deepEqual(zeros.toArray(), [0, 0, 0, 0]);
    assert.deepEqual(new SharedArray("c", "hi").toArray(), ["h", "i"]);
    assert.deepEqual(new SharedArray("?", [true, false]).toArray(), [true, false]);
    assert.deepEqual(new RawArray("q", [1n, -1]).toArray(), [1n, -1n]);
    assert.deepEqual(new RawArray("h", new Int32Array([40000, 1])).toArray(), [-25536, 1]);
    assert.deepEqual(new RawArray("d", new Float32Array([0.5])).toArray(), [0.5]);
    assert.deepEqual(new RawArray("Q", new BigInt64Array([-1n])).toArray(), [2n ** 64n - 1n]);
    assert.equal(new SharedArray("d", 0).length, 0);
    assert.ok(new SharedArray("d", 1).getLock() instanceof RLock);
  });

  test("SharedArray get and set take negative indexes and refuse out-of-range ones with RangeError", {
    timeout: 10_000,
  }, () => {
    const a = new SharedArray("i", [1, 2, 3]);
    assert.equal(a.get(-1), 3);
    a.set(-3, 10);
    assert.equal(a.get(0), 10);
    for (const i of [3, -4, 100]) {
      assert.throws(() => a.get(i), { name: "RangeError", message: /index out of range/ });
      assert.throws(() => a.set(i, 0), RangeError);
    }
    assert.throws(() => a.get(1.5), TypeError);
    assert.throws(() => a.set(0, 1.5), TypeError);
    assert.throws(() => a.set(0, "1" as never), TypeError);
    assert.deepEqual(a.toArray(), [10, 2, 3]);
  });

  test("SharedArray refuses a bad length with RangeError and a bad item with TypeError", { timeout: 10_000 }, () => {
    for (const n of [-1, 1.5, NaN]) assert.throws(() => new SharedArray("i", n), RangeError);
    assert.throws(() => new SharedArray("i", [1, 2.5]), { name: "TypeError", message: /item 1/ });
    assert.throws(() => new RawArray("i", new Float64Array([1.5])), TypeError);
    assert.throws(() => new RawArray("i", null as never), TypeError);
  });

  test("SharedArray slice, iteration and view follow Python's list and share memory", { timeout: 10_000 }, () => {
    const a = new SharedArray("d", [1, 2, 3, 4]);
    assert.deepEqual(a.slice(1, -1), [2, 3]);
    assert.deepEqual(a.slice(-2), [3, 4]);
    assert.deepEqual(a.slice(10), []);
    assert.deepEqual([...a], [1, 2, 3, 4]);
    assert.ok(a.view instanceof Float64Array);
    a.view[0] = 9;
    assert.equal(a.get(0), 9);
    const raw = new SharedArray("i", 2, { lock: false });
    assert.throws(() => raw.getLock(), TypeError);
    assert.equal(String(a), "SharedArray(\"d\", 4 items)");
  });

  test("SharedArray filled in disjoint quarters by 4 workers holds every item", { timeout: 30_000 }, async () => {
    const n = 400_000;
    const a = new SharedArray("d", n);
    await runAll(tasks.fillQuarter, [[a, 0], [a, 1], [a, 2], [a, 3]]);
    const view = a.view;
    for (let i = 0; i < n; i++) if (view[i] !== i * 0.5) assert.fail(`item ${i} is ${view[i]}`);
  });
});

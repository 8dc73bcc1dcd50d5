import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openInput, readInput } from "../../_internal/map_input.ts";
import { CALL, MAP, ONE, STARMAP } from "../../pool/_protocol.ts";
import { encodeMapJob, encodeMapJobs, mapMode } from "../../pool/_submit.ts";

const WHAT = "run map of task \"f\"";

describe("submit path", () => {
  test("chunksize 1 makes a call per item; larger makes chunks", { timeout: 5_000 }, () => {
    // A map's item travels as the argument itself, a starmap's as its argument list.
    assert.equal(mapMode(1, false), ONE);
    assert.equal(mapMode(1, true), CALL);
    assert.equal(mapMode(3, false), MAP);
    assert.equal(mapMode(3, true), STARMAP);
    assert.deepEqual(encodeMapJobs([1, 2, 3], 1, false, WHAT).map((e) => e.value), [1, 2, 3]);
    assert.deepEqual(encodeMapJobs([1, 2, 3, 4, 5], 2, false, WHAT).map((e) => e.value), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(encodeMapJobs([[1, 2], [3, 4]], 1, true, WHAT).map((e) => e.value), [[1, 2], [3, 4]]);
    assert.deepEqual(encodeMapJobs([[1, 2], [3, 4], [5, 6]], 2, true, WHAT).map((e) => e.value), [
      [[1, 2], [3, 4]],
      [[5, 6]],
    ]);
    assert.deepEqual(encodeMapJobs([], 4, false, WHAT), []);
  });

  test("a starmap item that is not an array is named by its input number", { timeout: 5_000 }, () => {
    assert.throws(() => encodeMapJobs([[1], 2], 1, true, WHAT), /iterable\[1\] must be an array/);
    assert.throws(() => encodeMapJobs([[1], [2], [3], 4], 2, true, WHAT), /iterable\[3\] must be an array/);
    assert.throws(() => encodeMapJob([[1], 7], 10, 2, true, WHAT), /iterable\[11\] must be an array/);
  });

  test("a function in the input is refused, named by its input number", { timeout: 5_000 }, () => {
    assert.throws(() => encodeMapJobs([1, 2, () => {}], 1, false, WHAT), /iterable\[2\]/);
    assert.throws(() => encodeMapJobs([1, 2, 3, { f: () => {} }], 2, false, WHAT), /iterable\[3\]/);
  });

  test("readInput() reads a sync input at once and an async one as a promise", { timeout: 5_000 }, async () => {
    const items = [1, 2];
    assert.equal(readInput(items, WHAT), items);
    assert.deepEqual(readInput(new Set([3, 4]), WHAT), [3, 4]);
    async function* gen() {
      yield 5;
      yield 6;
    }
    const later = readInput(gen(), WHAT);
    assert.ok(later instanceof Promise);
    assert.deepEqual(await later, [5, 6]);
    assert.throws(() => readInput(42 as never, WHAT), TypeError);
  });

  test("openInput() opens sync and async inputs, and refuses others", { timeout: 5_000 }, async () => {
    const sync = openInput([1], WHAT);
    assert.equal(sync.sync, true);
    assert.deepEqual(sync.sync && sync.iterator.next(), { done: false, value: 1 });
    async function* gen() {
      yield 2;
    }
    const input = openInput(gen(), WHAT);
    assert.equal(input.sync, false);
    assert.deepEqual(await input.iterator.next(), { done: false, value: 2 });
    assert.throws(() => openInput(null as never, WHAT), /must be an iterable or async iterable/);
  });
});

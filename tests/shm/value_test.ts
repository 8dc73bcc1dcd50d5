import assert from "node:assert/strict";
import { describe } from "node:test";
import { Process, taskModule } from "../../process/mod.ts";
import { RawArray, SharedArray } from "../../shm/array.ts";
import type { Typecode } from "../../shm/typecode.ts";
import { RawValue, Value } from "../../shm/value.ts";
import { Lock } from "../../sync/lock.ts";
import { RLock } from "../../sync/rlock.ts";
import { test, within } from "../_helpers.ts";
import { runAll } from "../sync/_sync_helpers.ts";
import { Box } from "../testdata/box.ts";
import { SAMPLES } from "../testdata/shm_tasks.ts";

const tasks = taskModule<typeof import("../testdata/shm_tasks.ts")>(
  new URL("../testdata/shm_tasks.ts", import.meta.url),
);

describe("Value", () => {
  test("Value wraps integers like ctypes and reads 64-bit integers as bigint", { timeout: 10_000 }, () => {
    assert.equal(new Value("h", 40000).value, -25536);
    assert.equal(new Value("B", -1).value, 255);
    assert.equal(new Value("int8", 200).value, -56);
    assert.equal(new Value("Q", -1n).value, 2n ** 64n - 1n);
    assert.equal(new Value("l", 2n ** 63n).value, -(2n ** 63n));
    assert.equal(new Value("q", 42).value, 42n);
    assert.equal(new Value("f", 0.1).value, Math.fround(0.1));
    assert.equal(new Value("d").value, 0);
    assert.equal(new Value("c").value, "\0");
    assert.equal(new Value("c", "x").value, "x");
    assert.equal(new Value("?").value, false);
    assert.equal(new RawValue("bool", true).value, true);
    assert.equal(new RawValue("uint64").value, 0n);
  });

  test(
    "Value makes a new RLock by default, uses a given lock, and has none with lock: false",
    { timeout: 10_000 },
    () => {
      const v = new Value("i", 1);
      assert.ok(v.getLock() instanceof RLock);
      assert.notEqual(new Value("i").getLock(), v.getLock());
      const lock = new Lock();
      const a = new Value("i", 0, { lock });
      const b = new Value("d", 0, { lock });
      assert.equal(a.getLock(), lock);
      assert.equal(b.getLock(), lock);
      const raw = new Value("i", 3, { lock: false });
      assert.throws(() => raw.getLock(), { name: "TypeError", message: /made with lock: false/ });
      raw.value += 1;
      assert.equal(raw.value, 4);
      assert.throws(() => new Value("i", 0, { lock: {} as Lock }), { name: "TypeError", message: /lock option/ });
    },
  );

  test("Value.value inside getLock() re-enters the RLock instead of waiting", { timeout: 10_000 }, () => {
    const v = new Value("i", 0);
    using _ = v.getLock().holdSync();
    v.value += 5;
    assert.equal(v.value, 5);
  });

  test("Value.value is atomic by itself: it does not wait for a holder of the lock, even a plain Lock", {
    timeout: 10_000,
  }, () => {
    const lock = new Lock();
    const v = new Value("d", 1.5, { lock });
    using _ = lock.holdSync();
    v.value = v.value * 2;
    assert.equal(v.value, 3);
    const f = new Value("f", 0.5);
    f.value = -2.25;
    assert.equal(f.value, -2.25);
  });

  test("Value refuses an unknown typecode with a TypeError listing the valid ones", { timeout: 10_000 }, () => {
    assert.throws(() => new Value("z" as Typecode), {
      name: "TypeError",
      message: /unknown typecode "z": use one of b B h H i I l L q Q f d c \? or int8 .* bool/,
    });
    assert.throws(() => new RawValue("u" as Typecode), TypeError);
    assert.throws(() => new RawArray(3 as unknown as Typecode, 1), TypeError);
  });

  test("Value refuses a value of the wrong type with a TypeError and keeps its value", { timeout: 10_000 }, () => {
    const i = new Value("i", 7);
    for (const bad of [1.5, NaN, Infinity, "3", true, null, {}]) {
      assert.throws(() => (i.value = bad as never), { name: "TypeError", message: /typecode "i" takes an integer/ });
    }
    assert.equal(i.value, 7);
    const q = new Value("q", 1n);
    assert.throws(() => (q.value = 0.5 as never), TypeError);
    assert.throws(() => (q.value = 2 ** 60 as never), TypeError);
    assert.equal(q.value, 1n);
    const c = new Value("c", "a");
    for (const bad of ["ab", "", "\u0100", 256, -1]) assert.throws(() => (c.value = bad as never), TypeError);
    assert.equal(c.value, "a");
    const b = new Value("?", true);
    assert.throws(() => (b.value = 1 as never), TypeError);
    assert.equal(b.value, true);
    const d = new Value("d", 2);
    assert.throws(() => (d.value = "2" as never), TypeError);
    assert.equal(d.value, 2);
    assert.throws(() => new Value("h", "1" as never), TypeError);
  });

  test("Value, RawValue and arrays written in one worker read the same in another, for every typecode", {
    timeout: 30_000,
  }, async () => {
    const codes = SAMPLES.map(([code]) => code as Typecode);
    const values = codes.map((c, k) => (k % 2 === 0 ? new Value(c) : new RawValue(c)));
    const arrays = codes.map((c, k) => (k % 2 === 0 ? new SharedArray(c, 3) : new RawArray(c, 3)));
    await runAll(tasks.writeSamples, [[values, arrays]]);
    const box = new Box();
    await runAll(tasks.readSamples, [[values, arrays, box]]);
    const expected = SAMPLES.map(([, , read]) => read);
    assert.deepEqual(box.read(), { values: expected, arrays: expected });
    assert.deepEqual(values.map((v) => String(v.value)), expected);
  });

  test("Value with getLock() held: 4 workers × 50k increments give the exact total", { timeout: 60_000 }, async () => {
    const v = new Value("i", 0);
    await runAll(tasks.increment, [[v, 50_000], [v, 50_000], [v, 50_000], [v, 50_000]]);
    assert.equal(v.value, 200_000);
  });

  test("Value arrives in a worker with the very lock it was made with", { timeout: 20_000 }, async () => {
    const lock = new Lock();
    const v = new Value("i", 0, { lock });
    const box = new Box();
    lock.acquireSync();
    const p = new Process({ target: tasks.tryValueLock, args: [v, box] });
    p.start();
    await within(p.join(), 15_000, "tryValueLock");
    lock.release();
    assert.equal(p.exitCode, 0);
    assert.equal(box.read(), false);
  });

  test("Value.toString() names the class, typecode and value", { timeout: 10_000 }, () => {
    assert.equal(String(new Value("i", 3)), "Value(\"i\", 3)");
    assert.equal(String(new RawValue("q", 3n)), "RawValue(\"q\", 3)");
  });
});

import assert from "node:assert/strict";
import { describe } from "node:test";
import { FileNotFoundError } from "../../errors.ts";
import { Pool } from "../../pool/mod.ts";
import { taskModule } from "../../process/mod.ts";
import { ShareableList } from "../../shm/shareable_list.ts";
import { SharedMemory } from "../../shm/shared_memory.ts";
import { Value } from "../../shm/value.ts";
import { test } from "../_helpers.ts";
import { runAll } from "../sync/_sync_helpers.ts";

const tasks = taskModule<typeof import("../testdata/shm_tasks.ts")>(
  new URL("../testdata/shm_tasks.ts", import.meta.url),
);
const bytes = (...b: number[]) => new Uint8Array(b);

describe("ShareableList", () => {
  test("ShareableList holds Python's item types with Python's format", { timeout: 10_000 }, () => {
    using list = ShareableList.create([1, 2.5, "abc", bytes(120, 121), null, true, "", "abcdefgh", "é"]);
    // Python 3.11 gives the same format for the same items.
    assert.equal(list.format, "qd8s8sxxxxxx?xxxxxxxx?8s16s8s");
    assert.deepEqual(list.toArray(), [1, 2.5, "abc", bytes(120, 121), null, true, "", "abcdefgh", "é"]);
    assert.equal(list.length, 9);
    list.set(2, "abcdefgh");
    assert.equal(list.get(2), "abcdefgh");
    list.set(0, "zz");
    list.set(1, 7);
    assert.equal(list.format, "8sq8s8sxxxxxx?xxxxxxxx?8s16s8s");
    assert.equal(list.get(-1), "é");
    assert.equal(list.count(7), 1);
    assert.equal(list.count(7n), 1);
    assert.equal(list.index(bytes(120, 121)), 3);
    assert.equal(list.index(null), 4);
    list.set(4, 2n ** 63n - 1n);
    assert.equal(list.get(4), 2n ** 63n - 1n);
    list.shm.unlink();
  });

  test("ShareableList refuses bad input with a typed error and leaves the slot unchanged", { timeout: 10_000 }, () => {
    using list = ShareableList.create(["abc", 1]);
    assert.throws(() => list.set(0, "abcdefghi"), {
      name: "RangeError",
      message: /9 bytes long and the slot holds at most 8/,
    });
    assert.throws(() => list.set(0, bytes(...new Array(9).fill(0))), RangeError);
    assert.equal(list.get(0), "abc");
    assert.throws(() => list.set(2, 1), { name: "RangeError", message: /index out of range/ });
    assert.throws(() => list.get(-3), RangeError);
    assert.throws(() => list.set(1, undefined as never), TypeError);
    assert.throws(() => list.set(1, {} as never), TypeError);
    assert.throws(() => list.set(1, 2n ** 63n), RangeError);
    assert.equal(list.get(1), 1);
    assert.throws(() => list.index(99), RangeError);
    assert.throws(() => ShareableList.create([[1] as never]), TypeError);
    list.shm.unlink();
  });

  test(
    "ShareableList.attach() finds a list by name and refuses a block that is not a list",
    { timeout: 10_000 },
    async () => {
      using list = ShareableList.create([1, "x"], { name: "shm_test_list" });
      using other = await ShareableList.attach("shm_test_list");
      assert.deepEqual(other.toArray(), [1, "x"]);
      using plain = SharedMemory.create({ size: 64 });
      assert.throws(() => ShareableList.attachSync(plain.name), { name: "TypeError", message: /holds something else/ });
      plain.unlink();
      list.shm.unlink();
      await assert.rejects(ShareableList.attach("shm_test_list"), FileNotFoundError);
    },
  );

  test(
    "ShareableList passed in args or attached by name in a worker is the same list",
    { timeout: 20_000 },
    async () => {
      using list = ShareableList.create(["hello", 21n, "x"]);
      await runAll(tasks.editList, [[list, list.shm.name]]);
      assert.deepEqual(list.toArray(), ["HELLO!", 42n, null]);
      list.shm.unlink();
    },
  );

  test("ShareableList and Value in a Pool's initargs arrive live in every worker", { timeout: 30_000 }, async () => {
    const counter = new Value("i", 0);
    using list = ShareableList.create([0, 0, 0, 0]);
    {
      await using pool = new Pool({ processes: 2, initializer: tasks.keepShared, initargs: [counter, list] });
      await pool.starmap(tasks.addFromInit, [[1, 0], [2, 1], [3, 2], [4, 3], [5, 0]]);
    }
    assert.equal(counter.value, 15);
    assert.deepEqual(list.toArray(), [6, 2, 3, 4]);
    list.shm.unlink();
  });
});

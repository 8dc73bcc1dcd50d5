import assert from "node:assert/strict";
import { describe } from "node:test";
import { isFreed, usage } from "../../_internal/name_table.ts";
import { toShared } from "../../_internal/shareable.ts";
import { FileExistsError, FileNotFoundError, InvalidStateError } from "../../errors.ts";
import { Process, taskModule } from "../../process/mod.ts";
import { SharedMemory } from "../../shm/shared_memory.ts";
import { test, within } from "../_helpers.ts";
import { runAll } from "../sync/_sync_helpers.ts";
import { Box } from "../testdata/box.ts";

const tasks = taskModule<typeof import("../testdata/shm_tasks.ts")>(
  new URL("../testdata/shm_tasks.ts", import.meta.url),
);
const MiB = 1 << 20;

describe("SharedMemory", () => {
  test(
    "SharedMemory.create() makes a zeroed block that attach() and attachSync() share",
    { timeout: 10_000 },
    async () => {
      using a = SharedMemory.create({ size: 100 });
      assert.match(a.name, /^psm_[0-9a-f]{8}$/);
      assert.equal(a.size, 100);
      assert.ok(a.buf.every((b) => b === 0));
      using b = SharedMemory.attachSync(a.name);
      using c = await SharedMemory.attach(a.name);
      a.buf[99] = 7;
      assert.equal(b.buf[99], 7);
      assert.equal(c.buf[99], 7);
      assert.equal(b.size, 100);
      assert.equal(a.buf.byteOffset % 64, 0);
      a.unlink();
    },
  );

  test(
    "SharedMemory.create() refuses a bad size or name with a typed error and creates nothing",
    { timeout: 10_000 },
    () => {
      const before = usage().blocks;
      for (const size of [0, -1, 1.5, NaN, Infinity]) {
        assert.throws(() => SharedMemory.create({ size }), {
          name: "RangeError",
          message: /size must be an integer > 0/,
        });
      }
      assert.throws(() => SharedMemory.create({ size: "10" as never }), TypeError);
      assert.throws(() => SharedMemory.create(undefined as never), TypeError);
      assert.throws(() => SharedMemory.create({ name: "", size: 1 }), RangeError);
      assert.throws(() => SharedMemory.create({ name: "x".repeat(256), size: 1 }), RangeError);
      assert.throws(() => SharedMemory.create({ name: 5 as never, size: 1 }), TypeError);
      assert.throws(() => SharedMemory.create({ size: 2 ** 33 }), { name: "RangeError", message: /does not fit/ });
      assert.equal(usage().blocks, before);
    },
  );

  test("SharedMemory.create() with a name that exists throws FileExistsError and leaves the block as it was", {
    timeout: 10_000,
  }, () => {
    using a = SharedMemory.create({ name: "shm_test_exists", size: 8 });
    a.buf[0] = 5;
    assert.throws(() => SharedMemory.create({ name: "shm_test_exists", size: 16 }), (e) => {
      assert.ok(e instanceof FileExistsError);
      assert.match(e.message, /already exists/);
      assert.equal(e.filename, "shm_test_exists");
      return true;
    });
    using again = SharedMemory.attachSync("shm_test_exists");
    assert.equal(again.size, 8);
    assert.equal(again.buf[0], 5);
    a.unlink();
  });

  test("SharedMemory.attach() of a missing or unlinked name, and a second unlink(), throw FileNotFoundError", {
    timeout: 10_000,
  }, async () => {
    assert.throws(() => SharedMemory.attachSync("shm_test_never"), FileNotFoundError);
    await assert.rejects(SharedMemory.attach("shm_test_never"), { name: "FileNotFoundError", message: /not found/ });
    const a = SharedMemory.create({ name: "shm_test_unlinked", size: 8 });
    a.unlink();
    assert.throws(() => SharedMemory.attachSync("shm_test_unlinked"), {
      name: "FileNotFoundError",
      message: /not found/,
    });
    assert.throws(() => a.unlink(), { name: "FileNotFoundError", message: /unlink .*not found/ });
    // The handle outlives its name, and the name can be used again.
    a.buf[0] = 1;
    using b = SharedMemory.create({ name: "shm_test_unlinked", size: 8 });
    assert.equal(b.buf[0], 0);
    a.close();
    b.unlink();
  });

  test("SharedMemory.close() ends only this handle, and is idempotent", { timeout: 10_000 }, () => {
    const a = SharedMemory.create({ size: 8 });
    const b = SharedMemory.attachSync(a.name);
    a.close();
    a.close();
    assert.equal(a.closed, true);
    assert.throws(() => a.buf, InvalidStateError);
    b.buf[0] = 3;
    using c = SharedMemory.attachSync(a.name);
    assert.equal(c.buf[0], 3);
    a.unlink();
    b.close();
  });

  test("SharedMemory memory of an unlinked block is reused only after its last handle closes, and zeroed", {
    timeout: 10_000,
  }, () => {
    const a = SharedMemory.create({ size: 4096 });
    const b = SharedMemory.attachSync(a.name);
    b.buf.fill(7);
    a.unlink();
    a.close();
    const c = SharedMemory.create({ size: 4096 });
    c.buf.fill(1);
    assert.ok(b.buf.every((x) => x === 7), "an open handle keeps its memory");
    b.close();
    const d = SharedMemory.create({ size: 4096 });
    assert.ok(d.buf.every((x) => x === 0), "reused memory is zeroed");
    for (const s of [c, d]) {
      s.unlink();
      s.close();
    }
  });

  test(
    "SharedMemory: 1000 create/unlink cycles of 1 MiB do not grow the arena past a few MiB",
    { timeout: 30_000 },
    () => {
      const before = usage().arenaBytes;
      for (let i = 0; i < 1000; i++) {
        const s = SharedMemory.create({ size: MiB });
        s.buf[i % MiB] = 1;
        s.unlink();
        s.close();
      }
      assert.ok(usage().arenaBytes - before <= 3 * MiB, `arena grew from ${before} to ${usage().arenaBytes} bytes`);
    },
  );

  test("SharedMemory is attached by name from a worker, and from a grandchild", { timeout: 30_000 }, async () => {
    using shm = SharedMemory.create({ size: 8 });
    await runAll(tasks.writeByName, [[shm.name, new Box(), false]]);
    assert.deepEqual([...shm.buf.subarray(0, 3)], [1, 2, 3]);
    shm.buf.fill(0);
    await runAll(tasks.viaGrandchild, [[shm.name, new Box()]]);
    assert.deepEqual([...shm.buf.subarray(0, 3)], [1, 2, 3]);
    shm.unlink();
  });

  test(
    "SharedMemory is attached and created by workers while the main thread is blocked",
    { timeout: 30_000 },
    async () => {
      using shm = SharedMemory.create({ size: 8 });
      for (const target of [tasks.writeByName, tasks.writeByNameAsync]) {
        const box = new Box();
        const p = new Process({ target, args: [shm.name, box, true] as never });
        p.start();
        await box.until(1, 20_000);
        box.raise(2);
        box.untilSync(0, 20_000); // the main thread blocks in Atomics.wait until the worker has written
        await within(p.join(), 20_000, "worker");
        assert.equal(p.exitCode, 0, String(p.error?.stack));
      }
      assert.deepEqual([...shm.buf.subarray(0, 3)], [4, 5, 6]);
      shm.unlink();
      const box = new Box();
      const p = new Process({ target: tasks.createAfterGate, args: ["shm_test_from_worker", 3 * MiB, box] });
      p.start();
      await box.until(1, 20_000);
      box.raise(2);
      box.untilSync(0, 20_000);
      await within(p.join(), 20_000, "worker");
      using made = SharedMemory.attachSync("shm_test_from_worker");
      assert.equal(made.size, 3 * MiB);
      assert.equal(made.buf[3 * MiB - 1], 9);
      made.unlink();
    },
  );

  test("SharedMemory passed in args arrives as a handle on the same memory", { timeout: 20_000 }, async () => {
    using shm = SharedMemory.create({ size: 16 });
    await runAll(tasks.writeThroughHandle, [[shm, 3, 33], [shm, 4, 44]]);
    assert.equal(shm.buf[3], 33);
    assert.equal(shm.buf[4], 44);
    shm.close();
    assert.throws(
      () => new Process({ target: tasks.writeThroughHandle, args: [shm, 0, 0] }).start(),
      InvalidStateError,
    );
    using again = SharedMemory.attachSync(shm.name);
    again.unlink();
  });

  test("SharedMemory held by a worker that is terminated is freed once unlinked", { timeout: 20_000 }, async () => {
    const shm = SharedMemory.create({ size: 1024 });
    const { index, generation } = shm[toShared]().state as { index: number; generation: number };
    const box = new Box();
    const p = new Process({ target: tasks.holdHandle, args: [shm.name, box] });
    p.start();
    await box.until(0, 15_000);
    p.terminate();
    await within(p.join(), 15_000, "terminated worker");
    shm.unlink();
    assert.equal(isFreed(index, generation), false, "a live handle keeps the block");
    shm.close();
    assert.equal(isFreed(index, generation), true, "the dead worker's handle does not keep the block");
  });
});

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { RemoteError, WorkerDiedError } from "../../errors.ts";
import { Pool, taskModule } from "../../pool/mod.ts";
import { within } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;

describe("Pool", () => {
  const pool = new Pool({ processes: 2 });
  after(() => pool.terminate());

  test("Pool.apply() returns the task's value", async () => {
    assert.equal(await within(pool.apply(tasks.fib, [20]), LIMIT), 6765);
  });

  test("Pool.apply() awaits an async task", async () => {
    assert.equal(await within(pool.apply(tasks.sleepy, [1, "late"]), LIMIT), "late");
  });

  test("Pool.map() keeps input order", async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const squares = items.map((x) => x * x);
    assert.deepEqual(await within(pool.map(tasks.square, items), LIMIT), squares);
    assert.deepEqual(await within(pool.map(tasks.square, items, { chunksize: 1 }), LIMIT), squares);
    assert.deepEqual(await within(pool.map(tasks.square, items, { chunksize: 7 }), LIMIT), squares);
  });

  test("Pool.map() of an empty input is empty", async () => {
    assert.deepEqual(await within(pool.map(tasks.square, []), LIMIT), []);
  });

  test("Pool.apply() rejects with the task's error and the pool keeps serving", async () => {
    await assert.rejects(pool.apply(tasks.failRange, ["bad"]), (error: Error) => {
      assert.ok(error instanceof RangeError);
      assert.equal(error.message, "bad");
      assert.match(error.stack ?? "", /failRange/);
      return true;
    });
    await assert.rejects(pool.apply(tasks.failCustom, ["custom"]), (error: RemoteError) => {
      assert.ok(error instanceof RemoteError);
      assert.equal(error.remoteName, "CustomError");
      assert.equal(error.message, "custom");
      assert.match(error.remoteStack ?? "", /failCustom/);
      return true;
    });
    assert.equal(await within(pool.apply(tasks.square, [3]), LIMIT), 9);
  });

  test("Pool.apply() rejects with WorkerDiedError when the worker exits, and replaces it", async () => {
    await assert.rejects(pool.apply(tasks.exitWith, [3]), (error: WorkerDiedError) => {
      assert.ok(error instanceof WorkerDiedError);
      assert.equal(error.exitCode, 3);
      return true;
    });
    assert.equal(await within(pool.apply(tasks.square, [4]), LIMIT), 16);
  });
});

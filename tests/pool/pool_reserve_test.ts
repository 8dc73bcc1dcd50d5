import assert from "node:assert/strict";
import { describe } from "node:test";
import { reserved, takenFromReserve } from "../../_internal/worker_reserve.ts";
import { WorkerDiedError } from "../../errors.ts";
import { Pool, ProcessPoolExecutor, taskModule } from "../../pool/mod.ts";
import { getReserve, setReserve, warmReserve } from "../../process/mod.ts";
import { after, eventually, test, within } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;
const initial = getReserve();

after(() => setReserve(initial));

describe("worker reserve in pools", () => {
  test("Pool takes its workers and their replacements from the reserve", { timeout: 60_000 }, async () => {
    setReserve(2);
    assert.equal(await warmReserve({ timeout: LIMIT }), true);
    const before = takenFromReserve();
    await using pool = new Pool({ processes: 2, initializer: tasks.init, initargs: ["from reserve"] });
    assert.equal(takenFromReserve() - before, 2, "both workers came from the reserve");
    assert.equal(reserved(), 0);
    assert.deepEqual((await within(pool.apply(tasks.initState, []), LIMIT)).value, "from reserve");
    await eventually(() => reserved() === 2, LIMIT, "the reserve refilling");
    await assert.rejects(pool.apply(tasks.exitWith, [3]), WorkerDiedError);
    assert.equal(takenFromReserve() - before, 3, "the replacement came from the refilled reserve");
    assert.equal(await within(pool.apply(tasks.square, [4]), LIMIT), 16);
    assert.deepEqual((await within(pool.apply(tasks.initState, []), LIMIT)).value, "from reserve");
  });

  test("ProcessPoolExecutor runs on reserve workers", { timeout: 60_000 }, async () => {
    setReserve(1);
    assert.equal(await warmReserve({ timeout: LIMIT }), true);
    const before = takenFromReserve();
    const ex = new ProcessPoolExecutor({ maxWorkers: 1 });
    try {
      assert.equal(takenFromReserve() - before, 1);
      assert.equal(await within(ex.submit(tasks.square, 7).result(), LIMIT), 49);
    } finally {
      await ex.shutdown();
    }
  });
});

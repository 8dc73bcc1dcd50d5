import assert from "node:assert/strict";
import { describe } from "node:test";
import { getContext } from "../../context.ts";
import { InvalidStateError } from "../../errors.ts";
import { currentTask, Pool, ProcessPoolExecutor, taskModule } from "../../pool/mod.ts";
import { after, test, within } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/cancel_tasks.ts")>(
  new URL("../testdata/cancel_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;
const PROCESS = getContext("process");

describe("currentTask()", () => {
  const pool = new Pool({ processes: 2 });
  after(() => pool.terminate());

  test("outside a pool task it throws InvalidStateError saying where to call it", { timeout: 5_000 }, () => {
    assert.throws(() => currentTask(), (error: Error) => {
      assert.ok(error instanceof InvalidStateError);
      assert.match(error.message, /outside a pool task/);
      return true;
    });
  });

  test(
    "gives each item's input index in map, starmap and imap, whatever the chunksize",
    { timeout: 20_000 },
    async () => {
      const items = Array.from({ length: 23 }, (_, i) => i);
      for (const chunksize of [1, 4, 23]) {
        assert.deepEqual(await within(pool.map(tasks.itemIndex, items, { chunksize }), LIMIT), items);
        assert.deepEqual(
          await within(pool.starmap(tasks.itemIndex, items.map((i) => [i] as [number]), { chunksize }), LIMIT),
          items,
        );
        const seen: number[] = [];
        for await (const i of pool.imapUnordered(tasks.itemIndex, items, { chunksize })) seen.push(i);
        assert.deepEqual(seen.sort((a, b) => a - b), items);
      }
    },
  );

  test("apply gives index 0, an id unique within the pool, and a signal that has not fired", {
    timeout: 20_000,
  }, async () => {
    const seen = await within(Promise.all([0, 1, 2, 3].map(() => pool.apply(tasks.describeTask, []))), LIMIT);
    for (const task of seen) {
      assert.equal(task.index, 0);
      assert.equal(task.aborted, false);
    }
    assert.equal(new Set(seen.map((task) => task.id)).size, 4, "ids differ");
    assert.equal(await within(pool.apply(tasks.sameSignal, []), LIMIT), true, "one signal per task");
  });

  test("ProcessPoolExecutor tasks see it too: submit gives index 0, map the item's index", {
    timeout: 20_000,
  }, async () => {
    await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
    assert.equal(await within(executor.submit(tasks.itemIndex, "x").result(), LIMIT), 0);
    const indexes: number[] = [];
    for await (const i of executor.map(tasks.itemIndex, ["a", "b", "c"], { chunksize: 2 })) indexes.push(i);
    assert.deepEqual(indexes, [0, 1, 2]);
  });

  test("an OS worker process (the process context) gives each item's index too", { timeout: LIMIT }, async () => {
    await using one = new PROCESS.Pool({ processes: 1 });
    assert.deepEqual(await within(one.map(tasks.itemIndex, [7, 8, 9, 10], { chunksize: 3 }), LIMIT), [0, 1, 2, 3]);
    assert.equal((await within(one.apply(tasks.describeTask, []), LIMIT)).index, 0);
  });
});

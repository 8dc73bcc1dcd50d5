import assert from "node:assert/strict";
import { describe } from "node:test";
import { asCompleted, ProcessPoolExecutor, taskModule, wait } from "../../pool/mod.ts";
import { after, test, within } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;

describe("asCompleted and wait", () => {
  const executor = new ProcessPoolExecutor({ maxWorkers: 2 });
  after(() => executor.shutdown({ cancelFutures: true }));

  test("asCompleted() yields a future given twice only once", async () => {
    const a = executor.submit(tasks.square, 2);
    const b = executor.submit(tasks.square, 3);
    const seen: unknown[] = [];
    await within(
      (async () => {
        for await (const future of asCompleted([a, b, a, a, b], { timeout: LIMIT })) seen.push(future);
      })(),
      LIMIT,
    );
    assert.equal(seen.length, 2);
    assert.deepEqual(new Set(seen), new Set([a, b]));
  });

  test("wait() counts a future given twice once", async () => {
    const a = executor.submit(tasks.square, 4);
    const { done, notDone } = await within(wait([a, a]), LIMIT);
    assert.deepEqual([...done], [a]);
    assert.equal(notDone.size, 0);
  });
});

import assert from "node:assert/strict";
import { describe } from "node:test";
import { getContext } from "../../context.ts";
import { InvalidStateError } from "../../errors.ts";
import { type MapProgress, Pool, ProcessPoolExecutor, reportProgress, taskModule } from "../../pool/mod.ts";
import { after, test, within } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/stream_tasks.ts")>(
  new URL("../testdata/stream_tasks.ts", import.meta.url),
);
const LIMIT = 15_000;

function range(n: number): number[] {
  return [...Array(n).keys()];
}

/** The counts a call reported, checked to grow to `total`. */
function counts(events: MapProgress[], total: number): number[] {
  const done = events.filter((e) => !("value" in e)).map((e) => e.done);
  for (let i = 1; i < done.length; i++) assert.ok(done[i] >= done[i - 1], `done went back: ${done}`);
  assert.equal(done.at(-1), total);
  return done;
}

describe("progress", () => {
  const pool = new Pool({ processes: 2 });
  after(() => pool.terminate());

  test(
    "Pool.apply() passes every report to onProgress, in order, before it resolves",
    { timeout: 20_000 },
    async () => {
      const seen: unknown[] = [];
      const result = pool.apply(tasks.reportEach, [200], { onProgress: (value) => seen.push(value) });
      assert.equal(await within(result, LIMIT), 200);
      assert.deepEqual(seen, range(200));
      const later: unknown[] = [];
      const value = await within(
        pool.applyAsync(tasks.reportEachAsync, [50], { onProgress: (v) => later.push(v) }).get(),
        LIMIT,
      );
      assert.equal(value, 50);
      assert.deepEqual(later, range(50));
    },
  );

  test("a task reports at no cost when its caller does not listen", { timeout: 20_000 }, async () => {
    assert.equal(await within(pool.apply(tasks.reportEach, [1000]), LIMIT), 1000);
    // Not even its value is looked at: nothing is sent.
    assert.equal(await within(pool.apply(tasks.reportFunction), LIMIT), 1);
  });

  test("reportProgress() outside a task, or with a value that cannot be copied, is a clear error", {
    timeout: 20_000,
  }, async () => {
    assert.throws(
      () => reportProgress(1),
      (error: unknown) => error instanceof InvalidStateError && /outside|not running as a task/.test(error.message),
    );
    await within(
      assert.rejects(
        pool.apply(tasks.reportFunction, [], { onProgress: () => {} }),
        (error: unknown) => error instanceof TypeError && /Cannot report progress/.test(error.message),
      ),
      LIMIT,
    );
  });

  test("Pool.map() and starmap() count { done, total } a chunk at a time, all before they resolve", {
    timeout: 20_000,
  }, async () => {
    const events: MapProgress[] = [];
    const values = await within(
      pool.map(tasks.square, range(20), { chunksize: 3, onProgress: (p) => events.push(p) }),
      LIMIT,
    );
    assert.deepEqual(values, range(20).map((x) => x * x));
    assert.ok(events.every((e) => e.total === 20));
    assert.equal(counts(events, 20).length, 7);
    const starEvents: MapProgress[] = [];
    const sums = await within(
      pool.starmap(tasks.add, range(5).map((x) => [x, 1] as [number, number]), {
        onProgress: (p) => starEvents.push(p),
      }),
      LIMIT,
    );
    assert.deepEqual(sums, [1, 2, 3, 4, 5]);
    counts(starEvents, 5);
  });

  test("a map passes on each task's reports with the index of the item that made them", {
    timeout: 20_000,
  }, async () => {
    const reported = new Map<number, unknown>();
    await within(
      pool.map(tasks.reportSquare, range(9), {
        chunksize: 4,
        onProgress: (p) => {
          if ("value" in p) reported.set(p.index!, p.value);
        },
      }),
      LIMIT,
    );
    assert.deepEqual([...reported.entries()].sort((a, b) => a[0] - b[0]), range(9).map((i) => [i, i * 10]));
  });

  test("imap over a generator reports total undefined until the input ends; over an array, at once", {
    timeout: 20_000,
  }, async () => {
    function* input(): Generator<number> {
      yield* range(10);
    }
    for (const ordered of [true, false]) {
      const events: MapProgress[] = [];
      const options = { chunksize: 2, onProgress: (p: MapProgress) => events.push(p) };
      const it = ordered
        ? pool.imap(tasks.square, input(), options)
        : pool.imapUnordered(tasks.square, input(), options);
      const got: number[] = [];
      for await (const x of it) got.push(x);
      assert.deepEqual(got.sort((a, b) => a - b), range(10).map((x) => x * x));
      counts(events, 10);
      assert.equal(events.at(-1)!.total, 10);
      const known = events.findIndex((e) => e.total !== undefined);
      assert.ok(events.slice(known).every((e) => e.total === 10), "total went back to undefined");
    }
    const fromArray: MapProgress[] = [];
    for await (const _ of pool.imap(tasks.square, range(4), { onProgress: (p) => fromArray.push(p) }));
    assert.ok(fromArray.every((e) => e.total === 4), "an array's length is known from the start");
    counts(fromArray, 4);
  });

  test("ProcessPoolExecutor.map() counts { done, total }", { timeout: 20_000 }, async () => {
    await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
    const events: MapProgress[] = [];
    const got: number[] = [];
    for await (const x of executor.map(tasks.square, range(12), { chunksize: 5, onProgress: (p) => events.push(p) })) {
      got.push(x);
    }
    assert.deepEqual(got, range(12).map((x) => x * x));
    assert.deepEqual(counts(events, 12).length, 3);
    assert.ok(events.every((e) => e.total === 12));
  });

  test("progress reaches the caller from an OS worker process", { timeout: 30_000 }, async () => {
    await using os = new Pool({ processes: 1, context: getContext("process") });
    const seen: unknown[] = [];
    assert.equal(await within(os.apply(tasks.reportEach, [30], { onProgress: (v) => seen.push(v) }), 25_000), 30);
    assert.deepEqual(seen, range(30));
  });
});

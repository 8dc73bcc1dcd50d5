// pool.stats(): counts, per-worker tasks, run and wait percentiles, utilization, for Pool
// and ProcessPoolExecutor, in both contexts.
import assert from "node:assert/strict";
import { describe } from "node:test";
import { getContext } from "../../context.ts";
import { Pool, type PoolStats, ProcessPoolExecutor, taskModule } from "../../pool/mod.ts";
import { test } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;

function assertOrdered(stats: PoolStats): void {
  for (const p of [stats.runTime, stats.waitTime]) {
    assert.ok(0 <= p.p50 && p.p50 <= p.p90 && p.p90 <= p.p99, JSON.stringify(p));
  }
  assert.ok(stats.utilization >= 0 && stats.utilization <= 1, String(stats.utilization));
}

describe("stats()", () => {
  test("a fresh pool reports its workers and nothing else", { timeout: LIMIT }, async () => {
    await using pool = new Pool({ processes: 2 });
    const stats = pool.stats();
    assert.deepEqual(
      { ...stats, workers: stats.workers.map((w) => w.tasks) },
      {
        completed: 0,
        failed: 0,
        running: 0,
        queued: 0,
        workers: [0, 0],
        runTime: { p50: 0, p90: 0, p99: 0 },
        waitTime: { p50: 0, p90: 0, p99: 0 },
        utilization: 0,
      },
    );
  });

  test("counts completed and failed tasks, per worker too", { timeout: LIMIT }, async () => {
    await using pool = new Pool({ processes: 2 });
    const idents = await pool.map(tasks.whoAmI, Array(20).fill(0), { chunksize: 1 });
    await assert.rejects(pool.apply(tasks.failRange, ["no"]), RangeError);
    await assert.rejects(pool.apply(tasks.failCustom, ["no"]));
    const stats = pool.stats();
    assert.equal(stats.completed, 20);
    assert.equal(stats.failed, 2);
    assert.equal(stats.running, 0);
    assert.equal(stats.queued, 0);
    assert.equal(stats.workers.reduce((n, w) => n + w.tasks, 0), 22);
    for (const worker of stats.workers) {
      const ran = idents.filter((ident) => ident === worker.ident).length;
      assert.ok(worker.tasks >= ran, `worker ${worker.ident} ran ${ran} of the map's tasks`);
    }
    assertOrdered(stats);
  });

  test("run and wait times follow the tasks' durations", { timeout: LIMIT }, async () => {
    await using pool = new Pool({ processes: 1 });
    // The second waits for the first, which spins 60 ms.
    const [a, b] = await Promise.all([pool.apply(tasks.spin, [60]), pool.apply(tasks.square, [3])]);
    assert.equal(b, 9);
    assert.ok(a >= 0);
    const stats = pool.stats();
    assert.ok(stats.runTime.p99 >= 55, `the longest run is the 60 ms spin: ${stats.runTime.p99}`);
    assert.ok(stats.runTime.p50 < 55, `the median run is the quick one: ${stats.runTime.p50}`);
    assert.ok(stats.waitTime.p99 >= 50, `the second task waited behind the first: ${stats.waitTime.p99}`);
    assert.ok(stats.utilization > 0);
    assertOrdered(stats);
  });

  test("running and queued show work in progress", { timeout: LIMIT }, async () => {
    await using pool = new Pool({ processes: 1 });
    const gate = new SharedArrayBuffer(4);
    const first = pool.apply(tasks.blockOn, [gate]);
    const second = pool.apply(tasks.square, [2]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const stats = pool.stats();
    assert.equal(stats.running, 1);
    assert.equal(stats.queued, 1);
    Atomics.store(new Int32Array(gate), 0, 1);
    Atomics.notify(new Int32Array(gate), 0);
    await Promise.all([first, second]);
    assert.equal(pool.stats().running + pool.stats().queued, 0);
  });

  for (const method of ["thread", "process"] as const) {
    test(`the executor reports stats too (${method})`, { timeout: LIMIT }, async () => {
      await using executor = new ProcessPoolExecutor({ maxWorkers: 1, context: getContext(method) });
      const ident = await executor.submit(tasks.whoAmI).result();
      for await (const _ of executor.map(tasks.square, [1, 2, 3])) { /* drain */ }
      const stats = executor.stats();
      assert.equal(stats.completed, 4);
      assert.deepEqual(stats.workers, [{ ident, tasks: 4 }]);
      assertOrdered(stats);
    });
  }
});

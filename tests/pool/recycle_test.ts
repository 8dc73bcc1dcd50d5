// Recycling and sizing: maxMemoryPerChild replaces a worker whose heap grew past the limit;
// idleTimeout retires workers beyond minProcesses and new work starts them again.
import assert from "node:assert/strict";
import { describe } from "node:test";
import { getContext } from "../../context.ts";
import { Pool, ProcessPoolExecutor, taskModule } from "../../pool/mod.ts";
import { eventually, test } from "../_helpers.ts";
import { runProgram } from "../_run_program.ts";
import { counterGate } from "./_gates.ts";

const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;
const MIB = 2 ** 20;
/** Objects that hold over twice 24 MiB of heap on every runtime (50-65 MB; a new worker holds 1-10 MB). */
const BIG = 1_500_000;

function liveWorkers(pool: { stats(): { workers: unknown[] } }): number {
  return pool.stats().workers.length;
}

describe("maxMemoryPerChild", () => {
  for (const method of ["thread", "process"] as const) {
    test(`a worker that retains a big heap is replaced (${method})`, { timeout: LIMIT }, async () => {
      await using pool = new Pool({ processes: 1, maxMemoryPerChild: 24 * MIB, context: getContext(method) });
      const first = await pool.apply(tasks.whoAmI, []);
      assert.equal(await pool.apply(tasks.whoAmI, []), first, "a small heap keeps its worker");
      assert.equal(await pool.apply(tasks.retain, [BIG]), first, "the task that grew the heap ran where it began");
      const next = await pool.apply(tasks.whoAmI, []);
      assert.notEqual(next, first, "the next task runs on a new worker");
      assert.equal(await pool.apply(tasks.whoAmI, []), next, "the new worker, being small, stays");
      assert.deepEqual(pool.stats().workers.map((w) => w.ident), [next]);
    });
  }

  test("the executor replaces the worker instead of breaking", { timeout: LIMIT }, async () => {
    await using executor = new ProcessPoolExecutor({ maxWorkers: 1, maxMemoryPerChild: 24 * MIB });
    const first = await executor.submit(tasks.retain, BIG).result();
    assert.notEqual(await executor.submit(tasks.whoAmI).result(), first);
  });

  test("tasks queued behind the growing one run on the new worker, none lost", { timeout: LIMIT }, async () => {
    await using pool = new Pool({ processes: 1, maxMemoryPerChild: 24 * MIB });
    // The first call of an unmeasured function travels with one more: both land on one worker.
    const [grown, ...rest] = await Promise.all([
      pool.apply(tasks.retain, [BIG]),
      ...Array.from({ length: 6 }, () => pool.apply(tasks.whoAmI, [])),
    ]);
    assert.equal(rest.length, 6);
    assert.ok(rest.some((ident) => ident !== grown), "tasks after the limit ran on the new worker");
    assert.equal(pool.stats().completed, 7);
  });
});

describe("idleTimeout and minProcesses", () => {
  test("idle workers beyond minProcesses retire, and new work starts new ones", { timeout: LIMIT }, async () => {
    await using pool = new Pool({ processes: 2, minProcesses: 1, idleTimeout: 100 });
    assert.equal(liveWorkers(pool), 1, "the pool starts with minProcesses workers");
    const gate = counterGate();
    const busy = [pool.apply(tasks.countThenWait, [gate.buffer]), pool.apply(tasks.countThenWait, [gate.buffer])];
    await eventually(() => gate.count() === 2, LIMIT, "two tasks running at once");
    assert.equal(liveWorkers(pool), 2, "work beyond one worker started a second");
    gate.open();
    await Promise.all(busy);
    const before = new Set(pool.stats().workers.map((w) => w.ident));
    await eventually(() => liveWorkers(pool) === 1, LIMIT, "the idle worker beyond minProcesses retiring");
    const again = counterGate();
    const idents = Promise.all([
      pool.apply(tasks.countThenWait, [again.buffer]),
      pool.apply(tasks.countThenWait, [again.buffer]),
    ]);
    await eventually(() => again.count() === 2, LIMIT, "two tasks running at once again");
    again.open();
    await idents;
    const after = new Set(pool.stats().workers.map((w) => w.ident));
    assert.equal(after.size, 2);
    assert.ok([...after].some((ident) => !before.has(ident)), "a new worker serves after idling");
  });

  test("with idleTimeout alone an idle pool holds no worker", { timeout: LIMIT }, async () => {
    await using executor = new ProcessPoolExecutor({ maxWorkers: 2, idleTimeout: 50 });
    assert.equal(liveWorkers(executor), 0);
    const first = await executor.submit(tasks.whoAmI).result();
    assert.equal(liveWorkers(executor), 1, "one task started one worker");
    await eventually(() => liveWorkers(executor) === 0, LIMIT, "the idle worker retiring");
    assert.notEqual(await executor.submit(tasks.whoAmI).result(), first);
  });

  test("an OS-process pool shrinks and grows too", { timeout: LIMIT }, async () => {
    await using pool = new Pool({ processes: 1, idleTimeout: 50, context: getContext("process") });
    const first = await pool.apply(tasks.whoAmI, []);
    await eventually(() => liveWorkers(pool) === 0, LIMIT, "the idle worker retiring");
    assert.notEqual(await pool.apply(tasks.whoAmI, []), first);
  });

  test("close() waits for the work and ends the workers of a shrinking pool", { timeout: LIMIT }, async () => {
    const pool = new Pool({ processes: 2, idleTimeout: 30 });
    assert.deepEqual(await pool.map(tasks.square, [1, 2, 3, 4], { chunksize: 1 }), [1, 4, 9, 16]);
    pool.close();
    await pool.join();
    assert.equal(liveWorkers(pool), 0);
  });

  test("a pending idle timer does not keep the program alive", { timeout: LIMIT }, async () => {
    const { code, stdout, stderr, timedOut } = await runProgram(
      new URL("../testdata/idle_timeout_main.ts", import.meta.url),
      LIMIT - 5_000,
    );
    assert.equal(timedOut, false, "the program ended although a worker was due to retire in a minute");
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split("\n"), ["result 4 9"]);
  });

  test("sizing options out of range are refused by name", { timeout: LIMIT }, () => {
    assert.throws(
      () => new Pool({ processes: 2, minProcesses: 3 }),
      /minProcesses must be an integer from 0 to processes \(2\), got 3/,
    );
    assert.throws(() => new Pool({ idleTimeout: -1 }), /idleTimeout must be a non-negative number/);
    assert.throws(() => new Pool({ maxMemoryPerChild: 0 }), /maxMemoryPerChild must be a positive number of bytes/);
    assert.throws(() => new ProcessPoolExecutor({ maxQueue: 1.5 }), /maxQueue must be a positive integer/);
    assert.throws(() => new ProcessPoolExecutor({ maxWorkers: 1, minProcesses: -1 }), RangeError);
  });
});

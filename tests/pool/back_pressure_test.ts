// maxQueue and drained(): a single submission beyond the limit fails at once with FullError
// and loses nothing; drained() says when to submit again; maps never fail for the limit.
import assert from "node:assert/strict";
import { describe } from "node:test";
import { FullError } from "../../errors.ts";
import { Pool, ProcessPoolExecutor, taskModule } from "../../pool/mod.ts";
import { eventually, test } from "../_helpers.ts";
import { counterGate } from "./_gates.ts";

const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;

/** Whether `promise` is still pending after the event loop has had a turn. */
async function pending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => settled = true, () => settled = true);
  await new Promise((resolve) => setTimeout(resolve, 10));
  return !settled;
}

describe("maxQueue", () => {
  test("a submission beyond maxQueue fails at once; drained() says when to retry", { timeout: LIMIT }, async () => {
    await using pool = new Pool({ processes: 1, maxQueue: 2 });
    const gate = counterGate();
    const running = pool.apply(tasks.countThenWait, [gate.buffer]);
    await eventually(() => gate.count() === 1, LIMIT, "the first task running");
    const second = pool.apply(tasks.square, [2]);
    const third = pool.applyAsync(tasks.square, [3]);
    assert.equal(pool.stats().queued, 2);
    await assert.rejects(pool.apply(tasks.square, [4]), (error: unknown) => {
      assert.ok(error instanceof FullError);
      assert.match(error.message, /task "square".*2 unstarted tasks, its maxQueue; await pool\.drained\(\)/);
      assert.deepEqual(error.value, [4], "the error carries the arguments not sent");
      return true;
    });
    assert.throws(() => pool.applyAsync(tasks.square, [5]), FullError);
    const drained = pool.drained();
    assert.equal(await pending(drained), true, "drained() waits while the queue is full");
    gate.open();
    await drained;
    assert.ok(pool.stats().queued < 2);
    assert.equal(await pool.apply(tasks.square, [6]), 36, "a submission after drained() is accepted");
    assert.equal(await running, 0);
    assert.deepEqual([await second, await third.get()], [4, 9]);
  });

  test("the executor refuses submit() beyond maxQueue the same way", { timeout: LIMIT }, async () => {
    await using executor = new ProcessPoolExecutor({ maxWorkers: 1, maxQueue: 1 });
    const gate = counterGate();
    const running = executor.submit(tasks.countThenWait, gate.buffer);
    await eventually(() => gate.count() === 1, LIMIT, "the first task running");
    const queued = executor.submit(tasks.square, 3);
    assert.throws(() => executor.submit(tasks.square, 4), (error: unknown) => {
      assert.ok(error instanceof FullError);
      assert.match(error.message, /await executor\.drained\(\)/);
      return true;
    });
    gate.open();
    await executor.drained();
    assert.equal(await executor.submit(tasks.square, 5).result(), 25);
    assert.equal(await running.result(), 0);
    assert.equal(await queued.result(), 9);
  });

  test("a map longer than maxQueue queues all its chunks and loses none", { timeout: LIMIT }, async () => {
    await using pool = new Pool({ processes: 1, maxQueue: 2 });
    const gate = counterGate();
    const map = pool.map(tasks.countThenWait, Array(5).fill(gate.buffer), { chunksize: 1 });
    await eventually(() => pool.stats().queued === 4, LIMIT, "the map's chunks queued");
    assert.throws(() => pool.applyAsync(tasks.square, [1]), FullError, "the map filled the queue");
    gate.open();
    assert.deepEqual(await map, [0, 1, 2, 3, 4], "each call ran once, in order on the one worker");
    const executorMap = (async () => {
      await using executor = new ProcessPoolExecutor({ maxWorkers: 1, maxQueue: 1 });
      const out: number[] = [];
      for await (const x of executor.map(tasks.square, [1, 2, 3, 4, 5])) out.push(x);
      return out;
    })();
    assert.deepEqual(await executorMap, [1, 4, 9, 16, 25]);
  });

  test("imap reads its input only while the queue has room", { timeout: LIMIT }, async () => {
    await using pool = new Pool({ processes: 1, maxQueue: 2 });
    const gate = counterGate();
    let pulled = 0;
    function* input(): Generator<SharedArrayBuffer> {
      for (let i = 0; i < 50; i++) {
        pulled++;
        yield gate.buffer;
      }
    }
    const it = pool.imap(tasks.countThenWait, input());
    await eventually(() => pool.stats().queued === 2, LIMIT, "the queue filling");
    const first = it.next();
    assert.equal(await pending(first), true);
    // One task running, maxQueue waiting: without the limit imap would read 128 ahead.
    assert.ok(pulled <= 4, `imap read ${pulled} items with room for 3`);
    gate.open();
    assert.deepEqual(await first, { done: false, value: 0 });
    const rest: number[] = [];
    for await (const x of it) rest.push(x);
    assert.deepEqual(rest, Array.from({ length: 49 }, (_, i) => i + 1), "every item ran once, in order");
    assert.equal(pulled, 50);
  });

  test("without maxQueue drained() resolves once nothing waits", { timeout: LIMIT }, async () => {
    await using pool = new Pool({ processes: 1 });
    await pool.drained();
    const gate = counterGate();
    const first = pool.apply(tasks.countThenWait, [gate.buffer]);
    const second = pool.apply(tasks.square, [7]);
    await eventually(() => gate.count() === 1, LIMIT, "the first task running");
    const drained = pool.drained();
    assert.equal(await pending(drained), true, "a task waits behind the running one");
    gate.open();
    await drained;
    assert.deepEqual([await first, await second], [0, 49]);
  });
});

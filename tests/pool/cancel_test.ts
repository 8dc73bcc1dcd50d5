import assert from "node:assert/strict";
import { describe } from "node:test";
import { getContext } from "../../context.ts";
import { CancelledError, InvalidStateError, TimeoutError } from "../../errors.ts";
import { currentTask, Pool, ProcessPoolExecutor, taskModule } from "../../pool/mod.ts";
import { after, test, within } from "../_helpers.ts";
import { Box } from "../testdata/box.ts";

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

describe("cooperative cancellation", () => {
  test("a task that heeds its abort keeps its worker: the same worker serves the next task", {
    timeout: 20_000,
  }, async () => {
    await using one = new Pool({ processes: 1 });
    const before = await within(one.apply(tasks.ident, []), LIMIT);
    const box = new Box();
    const controller = new AbortController();
    const running = one.apply(tasks.heedAbort, [box], { signal: controller.signal });
    await within(box.until(0), LIMIT, "task start");
    const reason = new Error("no longer needed");
    controller.abort(reason);
    await assert.rejects(within(running, LIMIT), (error) => error === reason);
    await within(box.until(1), LIMIT, "the task seeing its abort");
    assert.deepEqual(box.read(), { name: "Error", message: "no longer needed", ident: before });
    assert.equal(await within(one.apply(tasks.ident, []), LIMIT), before, "the same worker serves the next task");
  });

  test("a timeout fires the running task's signal with a TimeoutError; the worker survives", {
    timeout: 20_000,
  }, async () => {
    await using one = new Pool({ processes: 1 });
    const before = await within(one.apply(tasks.ident, []), LIMIT);
    const box = new Box();
    await assert.rejects(within(one.apply(tasks.heedAbort, [box], { timeout: 50 }), LIMIT), (error: Error) => {
      assert.ok(error instanceof TimeoutError);
      assert.match(error.message, /heedAbort.*timed out after 50 ms/);
      assert.equal((error as TimeoutError).index, undefined, "apply has no item index");
      return true;
    });
    await within(box.until(1), LIMIT, "the task seeing its abort");
    assert.equal((box.read() as { name: string }).name, "TimeoutError");
    assert.equal(await within(one.apply(tasks.ident, []), LIMIT), before);
  });

  test("abort() without a reason rejects with CancelledError whose cause is the signal's reason", {
    timeout: 20_000,
  }, async () => {
    await using one = new Pool({ processes: 1 });
    const box = new Box();
    const controller = new AbortController();
    const running = one.apply(tasks.heedAbort, [box], { signal: controller.signal });
    await within(box.until(0), LIMIT, "task start");
    controller.abort();
    await assert.rejects(within(running, LIMIT), (error: Error) => {
      assert.ok(error instanceof CancelledError);
      assert.match(error.message, /heedAbort.*aborted/);
      assert.equal((error.cause as Error).name, "AbortError");
      return true;
    });
    await within(box.until(1), LIMIT, "the task seeing its abort");
    assert.equal((box.read() as { name: string }).name, "CancelledError", "the task sees what the caller sees");
  });

  test("a task that ignores its abort past abortGrace has its worker replaced; the caller rejects at once", {
    timeout: 20_000,
  }, async () => {
    await using one = new Pool({ processes: 1, abortGrace: 50 });
    const before = await within(one.apply(tasks.ident, []), LIMIT);
    const box = new Box();
    const controller = new AbortController();
    const running = one.apply(tasks.ignoreAbort, [box], { signal: controller.signal });
    await within(box.until(0), LIMIT, "task start");
    const reason = new Error("stop");
    controller.abort(reason);
    // The task blocks for 30 s: a rejection within the bound came without waiting for it.
    await assert.rejects(within(running, 10_000), (error) => error === reason);
    assert.notEqual(await within(one.apply(tasks.ident, []), LIMIT), before, "a new worker runs the next task");
  });

  test("a map rejects with the index of the item whose task was aborted or timed out; the chunk stops", {
    timeout: 20_000,
  }, async () => {
    await using one = new Pool({ processes: 1 });
    const before = await within(one.apply(tasks.ident, []), LIMIT);
    for (const how of ["abort", "timeout"] as const) {
      const counter = new SharedArrayBuffer(4);
      const box = new Box();
      const items = [0, 1, 2, 3, 4, 5].map((x) => [counter, 2, box, x] as [SharedArrayBuffer, number, Box, number]);
      const controller = new AbortController();
      const options = how === "abort" ? { signal: controller.signal, chunksize: 1 } : { timeout: 100, chunksize: 1 };
      const mapped = one.starmap(tasks.countOrHeed, items, options);
      mapped.catch(() => {});
      await within(box.until(0), LIMIT, "item 2 starting");
      if (how === "abort") controller.abort();
      await assert.rejects(within(mapped, LIMIT), (error: Error) => {
        assert.ok(error instanceof (how === "abort" ? CancelledError : TimeoutError), `${how}: ${error}`);
        assert.equal((error as CancelledError).index, 2, how);
        assert.match(error.message, /item 2/);
        return true;
      });
      await within(box.until(1), LIMIT, "item 2 seeing its abort");
      assert.equal(await within(one.apply(tasks.ident, []), LIMIT), before, `${how}: the worker survives`);
      assert.equal(Atomics.load(new Int32Array(counter), 0), 3, `${how}: items after 2 never ran`);
    }
    // One chunk of six: the abort stops it at item 2.
    const counter = new SharedArrayBuffer(4);
    const box = new Box();
    const items = [0, 1, 2, 3, 4, 5].map((x) => [counter, 2, box, x] as [SharedArrayBuffer, number, Box, number]);
    const controller = new AbortController();
    const mapped = one.starmap(tasks.countOrHeed, items, { signal: controller.signal, chunksize: 6 });
    mapped.catch(() => {});
    await within(box.until(0), LIMIT, "item 2 starting");
    controller.abort();
    await assert.rejects(within(mapped, LIMIT), (error: Error) => (error as CancelledError).index === 0);
    await within(box.until(1), LIMIT, "item 2 seeing its abort");
    assert.equal(await within(one.apply(tasks.ident, []), LIMIT), before);
    assert.equal(Atomics.load(new Int32Array(counter), 0), 3, "the chunk ran no item after 2");
  });

  test("imap throws the abort from the iterator with the index of the item it was owed", {
    timeout: 20_000,
  }, async () => {
    await using one = new Pool({ processes: 1 });
    const counter = new SharedArrayBuffer(4);
    const box = new Box();
    const items = [0, 1, 2, 3].map((x) => [counter, 1, box, x] as [SharedArrayBuffer, number, Box, number]);
    const controller = new AbortController();
    const it = one.imap(tasks.countOrHeedItem, items, { signal: controller.signal });
    assert.deepEqual(await within(it.next(), LIMIT), { done: false, value: 0 });
    const next = it.next();
    await within(box.until(0), LIMIT, "item 1 starting");
    controller.abort();
    await assert.rejects(within(next, LIMIT), (error: Error) => {
      assert.ok(error instanceof CancelledError);
      assert.equal((error as CancelledError).index, 1);
      return true;
    });
    assert.equal((await within(it.next(), LIMIT)).done, true);
  });

  test("a timeout counts from the task's start, not its time in the queue, unless timeoutFrom is submit", {
    timeout: 20_000,
  }, async () => {
    await using one = new Pool({ processes: 1 });
    const box = new Box();
    const blocker = one.apply(tasks.ignoreAbort, [box]);
    await within(box.until(0), LIMIT, "the blocker starting");
    let fromStartSettled = false;
    const fromStart = one.apply(tasks.ident, [], { timeout: 300 });
    fromStart.finally(() => fromStartSettled = true).catch(() => {});
    const fromSubmit = one.apply(tasks.ident, [], { timeout: 300, timeoutFrom: "submit" });
    // The queue-inclusive one times out while both wait behind the blocker...
    await assert.rejects(within(fromSubmit, LIMIT), TimeoutError);
    await Promise.resolve();
    assert.equal(fromStartSettled, false, "the time in the queue did not count");
    // ...and the other runs once the worker is free.
    box.raise(1);
    assert.equal(await within(blocker, LIMIT), "done");
    assert.equal(typeof await within(fromStart, LIMIT), "number");
  });

  test("bad abortGrace and timeoutFrom are refused with RangeError", { timeout: 5_000 }, async () => {
    assert.throws(() => new Pool({ processes: 1, abortGrace: -1 }), /abortGrace must be a non-negative number/);
    assert.throws(() => new Pool({ processes: 1, abortGrace: NaN }), RangeError);
    await using one = new Pool({ processes: 1 });
    await assert.rejects(
      one.apply(tasks.ident, [], { timeout: 10, timeoutFrom: "later" as never }),
      /timeoutFrom must be "start" or "submit"/,
    );
  });

  test("an OS worker process (the process context) heeds an abort and serves the next task", {
    timeout: LIMIT,
  }, async () => {
    await using one = new PROCESS.Pool({ processes: 1 });
    const before = await within(one.apply(tasks.pid), LIMIT);
    await assert.rejects(within(one.apply(tasks.awaitAbort, [], { timeout: 100 }), LIMIT), TimeoutError);
    assert.equal(await within(one.apply(tasks.pid), LIMIT), before, "the same OS process serves the next task");
    await assert.rejects(
      within(one.map(tasks.awaitAbort, [undefined, undefined] as never[], { timeout: 100, chunksize: 1 }), LIMIT),
      (error: Error) => error instanceof TimeoutError && (error as TimeoutError).index === 0,
    );
    assert.equal(await within(one.apply(tasks.pid), LIMIT), before);
  });
});

describe("cancelPending()", () => {
  test("drops queued tasks and those a worker holds but has not begun; the running one finishes", {
    timeout: 20_000,
  }, async () => {
    await using one = new Pool({ processes: 1 });
    const box = new Box();
    const counter = new SharedArrayBuffer(4);
    const blocker = one.apply(tasks.ignoreAbort, [box]);
    await within(box.until(0), LIMIT, "the blocker starting");
    const calls = [0, 1, 2, 3, 4].map((x) => one.apply(tasks.countCall, [counter, x]));
    const mapped = one.starmap(tasks.countCall, [5, 6, 7].map((x) => [counter, x] as [SharedArrayBuffer, number]), {
      chunksize: 1,
    });
    for (const p of [...calls, mapped]) p.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(one.cancelPending(), 8);
    for (const call of calls) {
      await assert.rejects(within(call, LIMIT), (error: Error) => {
        assert.ok(error instanceof CancelledError);
        assert.match(error.message, /countCall.*cancelPending/);
        return true;
      });
    }
    await assert.rejects(within(mapped, LIMIT), (error: Error) => (error as CancelledError).index === 0);
    box.raise(1);
    assert.equal(await within(blocker, LIMIT), "done");
    assert.equal(await within(one.apply(tasks.countCall, [counter, 9]), LIMIT), 9);
    assert.equal(Atomics.load(new Int32Array(counter), 0), 1, "no dropped task ran");
    assert.equal(one.cancelPending(), 0);
  });

  test("ProcessPoolExecutor.cancelPending() cancels the futures that have not started", {
    timeout: 20_000,
  }, async () => {
    await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
    const box = new Box();
    const counter = new SharedArrayBuffer(4);
    const blocker = executor.submit(tasks.ignoreAbort, box);
    await within(box.until(0), LIMIT, "the blocker starting");
    const futures = [0, 1, 2].map((x) => executor.submit(tasks.countCall, counter, x));
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(executor.cancelPending(), 3);
    for (const future of futures) {
      assert.equal(future.cancelled(), true);
      await assert.rejects(future.result(), CancelledError);
    }
    assert.equal(blocker.cancelled(), false);
    box.raise(1);
    assert.equal(await within(blocker.result(), LIMIT), "done");
    assert.equal(Atomics.load(new Int32Array(counter), 0), 0, "no cancelled task ran");
  });
});

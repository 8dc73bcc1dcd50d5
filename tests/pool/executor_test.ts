import assert from "node:assert/strict";
import { describe } from "node:test";
import {
  BrokenProcessPoolError,
  CancelledError,
  InvalidStateError,
  RemoteError,
  TimeoutError,
  WorkerDiedError,
} from "../../errors.ts";
import {
  ALL_COMPLETED,
  asCompleted,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  ProcessPoolExecutor,
  taskModule,
  wait,
} from "../../pool/mod.ts";
import { cpuCount } from "../../process/mod.ts";
import { after, test, within } from "../_helpers.ts";
import { Box } from "../testdata/box.ts";

const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;

function newGate(): { buffer: SharedArrayBuffer; open(): void } {
  const buffer = new SharedArrayBuffer(4);
  const word = new Int32Array(buffer);
  return {
    buffer,
    open() {
      Atomics.store(word, 0, 1);
      Atomics.notify(word, 0);
    },
  };
}

async function drainAll<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe("ProcessPoolExecutor", () => {
  const executor = new ProcessPoolExecutor({ maxWorkers: 2 });
  after(() => executor.shutdown({ cancelFutures: true }));

  test("ProcessPoolExecutor.submit() returns an awaitable Future", async () => {
    const future = executor.submit(tasks.add, 2, 3);
    assert.ok(future instanceof Future);
    assert.equal(await within(future.result(LIMIT), LIMIT), 5);
    assert.equal(await future, 5);
    assert.equal(future.done(), true);
    assert.equal(future.running(), false);
    assert.equal(future.cancelled(), false);
    assert.equal(await future.exception(), null);
  });

  test("Future.exception() returns the task's error and result() rejects with it", async () => {
    const future = executor.submit(tasks.failCustom, "boom");
    const error = await within(future.exception(), LIMIT);
    assert.ok(error instanceof RemoteError);
    assert.equal(error.remoteName, "CustomError");
    await assert.rejects(future.result(), RemoteError);
  });

  test("Future.result() throws TimeoutError when not done in time", async () => {
    const future = executor.submit(tasks.sleepy, 200, "slow");
    await assert.rejects(future.result(1), TimeoutError);
    await assert.rejects(future.exception(1), TimeoutError);
    assert.equal(await within(future.result(), LIMIT), "slow");
  });

  test("Future.cancel() cancels a queued task but not a running one", async () => {
    const box = new Box();
    const running = executor.submit(tasks.startThenBlock, box, "a");
    const queued = executor.submit(tasks.square, 3);
    assert.equal(queued.cancel(), true);
    assert.equal(queued.cancelled(), true);
    assert.equal(queued.done(), true);
    await assert.rejects(queued.result(), CancelledError);
    await assert.rejects(queued.exception(), CancelledError);
    await within(box.until(0), LIMIT, "task start");
    assert.equal(running.cancel(), false, "a running task cannot be cancelled");
    assert.equal(running.cancelled(), false);
    box.raise(1);
    assert.equal(await within(running.result(), LIMIT), "a");
    assert.equal(running.cancel(), false);
  });

  test("Future.running() is true while a worker holds the task", async () => {
    const box = new Box();
    const future = executor.submit(tasks.startThenBlock, box, "x");
    await within(box.until(0), LIMIT, "task start");
    assert.equal(future.running(), true);
    assert.equal(future.cancel(), false);
    box.raise(1);
    assert.equal(await within(future.result(), LIMIT), "x");
    assert.equal(future.running(), false);
  });

  test("Future.addDoneCallback() runs once the future is done, and soon when it already is", async () => {
    const future = executor.submit(tasks.square, 4);
    const seen: number[] = [];
    await within(
      new Promise<void>((resolve) =>
        future.addDoneCallback((f) => {
          assert.equal(f, future);
          seen.push(1);
          resolve();
        })
      ),
      LIMIT,
    );
    await new Promise<void>((resolve) => future.addDoneCallback(() => resolve()));
    assert.deepEqual(seen, [1]);
  });

  test("ProcessPoolExecutor.map() yields in input order with any chunksize", async () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const squares = items.map((x) => x * x);
    assert.deepEqual(await within(drainAll(executor.map(tasks.square, items)), LIMIT), squares);
    assert.deepEqual(await within(drainAll(executor.map(tasks.square, items, { chunksize: 8 })), LIMIT), squares);
    async function* agen() {
      yield 1;
      yield 2;
    }
    assert.deepEqual(await within(drainAll(executor.map(tasks.double, agen())), LIMIT), [2, 4]);
  });

  test("ProcessPoolExecutor.starmap() spreads each argument list", async () => {
    const pairs: [number, number][] = [[1, 2], [3, 4]];
    assert.deepEqual(await within(drainAll(executor.starmap(tasks.add, pairs)), LIMIT), [3, 7]);
    assert.deepEqual(await within(drainAll(executor.starmap(tasks.add, pairs, { chunksize: 2 })), LIMIT), [3, 7]);
  });

  test("ProcessPoolExecutor.map() throws TimeoutError when a result is late", async () => {
    const it = executor.starmap(tasks.sleepy, [[300, "x"]], { timeout: 10 });
    await assert.rejects(drainAll(it), TimeoutError);
  });

  test("asCompleted() yields futures in completion order", async () => {
    const gate = newGate();
    const slow = executor.submit(tasks.gated, gate.buffer, "slow");
    const fast = executor.submit(tasks.sleepy, 1, "fast");
    const order: string[] = [];
    for await (const future of asCompleted([slow, fast], { timeout: LIMIT })) {
      order.push(String(await future.result()));
      gate.open();
    }
    assert.deepEqual(order, ["fast", "slow"]);
  });

  test("asCompleted() throws TimeoutError with futures still pending", async () => {
    const slow = executor.submit(tasks.sleepy, 300, "slow");
    const it = asCompleted([slow], { timeout: 5 });
    await assert.rejects(it.next(), (error: Error) => {
      assert.ok(error instanceof TimeoutError);
      assert.match(error.message, /1 \(of 1\) futures unfinished/);
      return true;
    });
    await within(slow.result(), LIMIT);
  });

  test("wait() returns on FIRST_COMPLETED, FIRST_EXCEPTION and ALL_COMPLETED", async () => {
    const gate = newGate();
    const slow = executor.submit(tasks.gated, gate.buffer, "slow");
    const fast = executor.submit(tasks.square, 2);
    const first = await within(wait([slow, fast], { returnWhen: FIRST_COMPLETED }), LIMIT);
    assert.ok(first.done.has(fast));
    assert.ok(first.notDone.has(slow));

    const bad = executor.submit(tasks.failRange, "bad");
    const failed = await within(wait([slow, bad], { returnWhen: FIRST_EXCEPTION }), LIMIT);
    assert.ok(failed.done.has(bad));
    assert.ok(failed.notDone.has(slow));

    const timed = await within(wait([slow], { timeout: 5 }), LIMIT);
    assert.ok(timed.notDone.has(slow));
    await assert.rejects(wait([slow], { returnWhen: "SOMETIMES" as never }), RangeError);

    gate.open();
    const all = await within(wait([slow, fast, bad], { returnWhen: ALL_COMPLETED }), LIMIT);
    assert.equal(all.done.size, 3);
    assert.equal(all.notDone.size, 0);
  });

  test("ProcessPoolExecutor.submit() rejects arguments that cannot be sent", () => {
    assert.throws(() => executor.submit(tasks.identity, () => 1), TypeError);
  });
});

describe("ProcessPoolExecutor lifecycle", () => {
  test("ProcessPoolExecutor.shutdown() waits for pending work and refuses new work", async () => {
    const executor = new ProcessPoolExecutor({ maxWorkers: 2 });
    const future = executor.submit(tasks.sleepy, 20, "done");
    await within(executor.shutdown(), LIMIT, "shutdown");
    assert.equal(await future.result(0), "done");
    assert.throws(() => executor.submit(tasks.square, 1), (error: Error) => {
      assert.ok(error instanceof InvalidStateError);
      assert.equal(error.message, "Cannot submit task \"square\": the executor was shut down");
      return true;
    });
  });

  test("ProcessPoolExecutor.shutdown({ cancelFutures }) cancels queued futures", async () => {
    const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
    const box = new Box();
    const running = executor.submit(tasks.startThenBlock, box, "ran");
    await within(box.until(0), LIMIT, "task start");
    const queued = executor.submit(tasks.square, 2);
    const shutdown = executor.shutdown({ cancelFutures: true });
    assert.equal(queued.cancelled(), true);
    assert.equal(running.cancelled(), false);
    box.raise(1);
    await within(shutdown, LIMIT, "shutdown");
    assert.equal(await running.result(0), "ran");
  });

  test("ProcessPoolExecutor breaks when a worker dies: pending futures fail, new work is refused", async () => {
    await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
    const futures = [executor.submit(tasks.exitWith, 3), executor.submit(tasks.sleepy, 5_000, "never")];
    for (const future of futures) {
      await assert.rejects(within(future.result(), LIMIT), BrokenProcessPoolError);
    }
    assert.throws(() => executor.submit(tasks.square, 1), BrokenProcessPoolError);
  });

  test("ProcessPoolExecutor runs the initializer and recycles workers with maxTasksPerChild", async () => {
    await using executor = new ProcessPoolExecutor({
      maxWorkers: 1,
      initializer: tasks.init,
      initargs: ["x"],
      maxTasksPerChild: 2,
    });
    const states = [];
    for (let i = 0; i < 6; i++) states.push(await within(executor.submit(tasks.initState, 0).result(), LIMIT));
    assert.equal(new Set(states.map((s) => s.ident)).size, 3);
    for (const state of states) assert.deepEqual([state.calls, state.value], [1, "x"]);
  });

  test("ProcessPoolExecutor rejects bad options", () => {
    assert.throws(() => new ProcessPoolExecutor({ maxWorkers: 0 }), RangeError);
  });
});

describe("ProcessPoolExecutor, documented behaviour", () => {
  test("ProcessPoolExecutor.shutdown({ wait: false }) returns at once; running work still finishes", async () => {
    const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
    const box = new Box();
    const running = executor.submit(tasks.startThenBlock, box, "finished");
    await within(box.until(0), LIMIT, "task start");
    await within(executor.shutdown({ wait: false }), LIMIT, "shutdown without waiting");
    assert.equal(running.done(), false, "shutdown returned while the task was still running");
    assert.throws(() => executor.submit(tasks.square, 1), InvalidStateError);
    box.raise(1);
    assert.equal(await within(running.result(), LIMIT), "finished");
    await within(executor.shutdown(), LIMIT, "shutdown");
  });

  test("ProcessPoolExecutor starts cpuCount() workers by default; shutdown() twice is fine", async () => {
    const executor = new ProcessPoolExecutor();
    assert.equal(executor.maxWorkers, cpuCount());
    assert.equal(await within(executor.submit(tasks.square, 5).result(), LIMIT), 25);
    await within(executor.shutdown(), LIMIT, "shutdown");
    await within(executor.shutdown(), LIMIT, "second shutdown");
  });

  test("ProcessPoolExecutor.map() and starmap() throw InvalidStateError after shutdown()", async () => {
    const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
    await within(executor.shutdown(), LIMIT, "shutdown");
    assert.throws(() => executor.map(tasks.square, [1]), (error: Error) => {
      assert.ok(error instanceof InvalidStateError);
      assert.match(error.message, /shut down/);
      return true;
    });
    assert.throws(() => executor.starmap(tasks.add, [[1, 2]]), InvalidStateError);
  });

  test("ProcessPoolExecutor.map() cancels the tasks not yet started when the loop is left early", async () => {
    await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
    const counter = new SharedArrayBuffer(8);
    const c = new Int32Array(counter);
    const n = 20;
    // Item 1 blocks the only worker until word 1 is set, so the items after it are queued.
    for await (const value of executor.starmap(tasks.tally, Array.from({ length: n }, (_, i) => [counter, i]))) {
      assert.equal(value, 0);
      break;
    }
    Atomics.store(c, 1, 1);
    Atomics.notify(c, 1);
    await within(executor.shutdown(), LIMIT, "shutdown");
    const ran = Atomics.load(c, 0);
    assert.ok(ran >= 2 && ran < n, `${ran} of ${n} tasks ran`);
  });

  test("ProcessPoolExecutor.map() throws TypeError for an input that is not iterable or an item that is not a list", async () => {
    await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
    assert.throws(() => executor.map(tasks.square, 5 as never), /must be an iterable or async iterable/);
    assert.throws(() => executor.starmap(tasks.add, [[1, 2], 3] as never), /iterable\[1\] must be an array/);
  });
});

describe("ProcessPoolExecutor when broken", () => {
  test(
    "each pending future of a broken executor gets its own error, caused by the death",
    { timeout: 20_000 },
    async () => {
      const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
      const futures = [
        executor.submit(tasks.exitWith, 3),
        executor.submit(tasks.sleepy, 5_000, "never"),
        executor.submit(tasks.square, 2),
      ];
      const errors = await Promise.all(futures.map((f) => within(f.exception(), LIMIT)));
      assert.equal(new Set(errors).size, futures.length, "one error object per future");
      for (const error of errors) {
        assert.ok(error instanceof BrokenProcessPoolError);
        assert.ok(error.cause instanceof WorkerDiedError, `cause: ${String(error.cause)}`);
        assert.equal(error.cause.exitCode, 3);
      }
      await within(executor.shutdown(), LIMIT);
    },
  );
});

import assert from "node:assert/strict";
import { describe } from "node:test";
import { getContext } from "../../context.ts";
import { BrokenProcessPoolError, CancelledError, TimeoutError, WorkerDiedError } from "../../errors.ts";
import { Pool, ProcessPoolExecutor, taskModule } from "../../pool/mod.ts";
import { after, eventually, test, within } from "../_helpers.ts";
import { CLOSED, MAX_LAG, PRODUCED, TAKEN } from "../testdata/stream_tasks.ts";

const tasks = taskModule<typeof import("../testdata/stream_tasks.ts")>(
  new URL("../testdata/stream_tasks.ts", import.meta.url),
);
const poolTasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 15_000;

async function drainAll<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe("Pool.stream", () => {
  const pool = new Pool({ processes: 2 });
  after(() => pool.terminate());

  test("Pool.stream() yields an async generator's values in order", { timeout: 20_000 }, async () => {
    assert.deepEqual(await within(drainAll(pool.stream(tasks.count, [50])), LIMIT), [...Array(50).keys()]);
  });

  test("Pool.stream() takes a plain generator, and its return value ends the iteration", {
    timeout: 20_000,
  }, async () => {
    const stream = pool.stream(tasks.countSync, [3]);
    const got: unknown[] = [];
    for (let step = await within(stream.next(), LIMIT); !step.done; step = await within(stream.next(), LIMIT)) {
      got.push(step.value);
    }
    assert.deepEqual(got, [0, 1, 2]);
    assert.deepEqual(await stream.next(), { done: true, value: undefined });
  });

  test("Pool.stream() ends with the generator's return value", { timeout: 20_000 }, async () => {
    const stream = pool.stream(tasks.countSync, [1]);
    assert.deepEqual(await within(stream.next(), LIMIT), { done: false, value: 0 });
    assert.deepEqual(await within(stream.next(), LIMIT), { done: true, value: "end" });
  });

  test("leaving a stream that still waits for a worker withdraws it: it never runs", { timeout: 20_000 }, async () => {
    await using one = new Pool({ processes: 1 });
    const gate = new SharedArrayBuffer(4);
    const busy = one.apply(poolTasks.blockOn, [gate]);
    const buffer = new SharedArrayBuffer(16);
    const stream = one.stream(tasks.endless, [buffer]);
    await stream[Symbol.asyncDispose]();
    assert.deepEqual(await stream.next(), { done: true, value: undefined });
    Atomics.store(new Int32Array(gate), 0, 1);
    Atomics.notify(new Int32Array(gate), 0);
    await within(busy, LIMIT);
    assert.equal(await within(one.apply(tasks.square, [3]), LIMIT), 9);
    assert.equal(Atomics.load(new Int32Array(buffer), PRODUCED), 0, "the withdrawn stream ran");
  });

  test("a slow consumer holds the generator within highWaterMark", { timeout: 20_000 }, async () => {
    const highWaterMark = 4;
    const n = 40;
    const buffer = new SharedArrayBuffer(16);
    const words = new Int32Array(buffer);
    let taken = 0;
    for await (const value of pool.stream(tasks.counted, [buffer, n], { highWaterMark })) {
      assert.equal(value, taken);
      Atomics.store(words, TAKEN, ++taken);
      // Let the producer run as far ahead as it may before taking the next value.
      const ahead = Math.min(taken + (highWaterMark >> 1), n);
      await eventually(() => Atomics.load(words, PRODUCED) >= ahead, LIMIT, `the producer to reach ${ahead}`);
    }
    assert.equal(taken, n);
    const lag = Atomics.load(words, MAX_LAG);
    // The worker may run one value past what the test has written down as taken.
    assert.ok(lag <= highWaterMark + 1, `the producer ran ${lag} values ahead of the consumer`);
    assert.ok(lag >= highWaterMark >> 1, `the producer never ran ahead (lag ${lag})`);
  });

  test("breaking out of the loop ends the generator and frees the worker for the next task", {
    timeout: 20_000,
  }, async () => {
    await using one = new Pool({ processes: 1 });
    const ident = await within(one.apply(tasks.whoAmI), LIMIT);
    const buffer = new SharedArrayBuffer(16);
    const words = new Int32Array(buffer);
    const got: number[] = [];
    for await (const value of one.stream(tasks.endless, [buffer], { highWaterMark: 2 })) {
      got.push(value);
      if (value === 5) break;
    }
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5]);
    await eventually(() => Atomics.load(words, CLOSED) === 1, LIMIT, "the generator's finally");
    // The same worker, not a replacement, runs the next task.
    assert.equal(await within(one.apply(tasks.whoAmI), LIMIT), ident);
    assert.ok(Atomics.load(words, PRODUCED) <= 6 + 2 + 1, "the generator ran on after the break");
  });

  test("an error thrown in the generator ends the iteration with its class, after the values before it", {
    timeout: 20_000,
  }, async () => {
    const got: number[] = [];
    await within(
      assert.rejects(async () => {
        for await (const value of pool.stream(tasks.failAfter, [3])) got.push(value);
      }, (error: unknown) => error instanceof RangeError && /failed after 3/.test(error.message)),
      LIMIT,
    );
    assert.deepEqual(got, [0, 1, 2]);
  });

  test("a worker that dies mid-stream ends the iteration with WorkerDiedError", { timeout: 20_000 }, async () => {
    const got: number[] = [];
    await within(
      assert.rejects(async () => {
        for await (const value of pool.stream(tasks.dieAfter, [2])) got.push(value);
      }, (error: unknown) => error instanceof WorkerDiedError && error.exitCode === 3),
      LIMIT,
    );
    assert.deepEqual(got, [0, 1]);
    assert.equal(await within(pool.apply(tasks.square, [4]), LIMIT), 16);
  });

  test("a signal and a timeout stop the stream", { timeout: 20_000 }, async () => {
    const controller = new AbortController();
    const reason = new CancelledError("enough");
    const buffer = new SharedArrayBuffer(16);
    await within(
      assert.rejects(async () => {
        for await (const value of pool.stream(tasks.endless, [buffer], { signal: controller.signal })) {
          if (value === 3) controller.abort(reason);
        }
      }, (error: unknown) => error === reason),
      LIMIT,
    );
    const late = new SharedArrayBuffer(16);
    await within(assert.rejects(drainAll(pool.stream(tasks.endless, [late], { timeout: 50 })), TimeoutError), LIMIT);
    assert.equal(await within(pool.apply(tasks.square, [5]), LIMIT), 25);
  });

  test("a task that returns no generator, or yields what cannot be copied, fails with a TypeError", {
    timeout: 20_000,
  }, async () => {
    await within(
      assert.rejects(drainAll(pool.stream(tasks.notAGenerator, [1])), /not a generator/),
      LIMIT,
    );
    const got: unknown[] = [];
    await within(
      assert.rejects(async () => {
        for await (const value of pool.stream(tasks.yieldsFunction)) got.push(value);
      }, (error: unknown) => error instanceof TypeError && /yield number 1 cannot be copied/.test(error.message)),
      LIMIT,
    );
    assert.deepEqual(got, [1]);
    assert.throws(() => pool.stream(tasks.count, [1], { highWaterMark: 0 }), RangeError);
  });

  test("a stream reports progress, and other tasks run beside it on the other worker", {
    timeout: 20_000,
  }, async () => {
    const reports: unknown[] = [];
    const buffer = new SharedArrayBuffer(16);
    const stream = pool.stream(tasks.endless, [buffer], { highWaterMark: 1 });
    assert.deepEqual(await within(stream.next(), LIMIT), { done: false, value: 0 });
    // One worker is held by the stream: these all run on the other.
    assert.deepEqual(await within(pool.map(tasks.square, [1, 2, 3, 4]), LIMIT), [1, 4, 9, 16]);
    await stream[Symbol.asyncDispose]();
    const got = await within(
      drainAll(pool.stream(tasks.countReporting, [4], { onProgress: (v) => reports.push(v) })),
      LIMIT,
    );
    assert.deepEqual(got, [0, 1, 2, 3]);
    assert.deepEqual(reports, ["half"]);
  });
});

describe("ProcessPoolExecutor.stream", () => {
  test("ProcessPoolExecutor.stream() yields in order; a death mid-stream breaks the executor", {
    timeout: 20_000,
  }, async () => {
    await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
    assert.deepEqual(await within(drainAll(executor.stream(tasks.count, [5], { highWaterMark: 2 })), LIMIT), [
      0,
      1,
      2,
      3,
      4,
    ]);
    await within(assert.rejects(drainAll(executor.stream(tasks.dieAfter, [1])), BrokenProcessPoolError), LIMIT);
  });
});

describe("Pool.stream in the process context", () => {
  test("an OS worker process streams with back-pressure and stops at a break", { timeout: 30_000 }, async () => {
    await using pool = new Pool({ processes: 1, context: getContext("process") });
    assert.deepEqual(await within(drainAll(pool.stream(tasks.count, [20], { highWaterMark: 3 })), 25_000), [
      ...Array(20).keys(),
    ]);
    const got: number[] = [];
    for await (const value of pool.stream(tasks.countSync, [1000], { highWaterMark: 2 })) {
      got.push(value);
      if (value === 4) break;
    }
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
    assert.equal(await within(pool.apply(tasks.square, [6]), 25_000), 36);
  });
});

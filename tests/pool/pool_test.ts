import assert from "node:assert/strict";
import { describe } from "node:test";
import {
  BrokenProcessPoolError,
  CancelledError,
  InvalidStateError,
  MaybeEncodingError,
  RemoteError,
  TimeoutError,
  WorkerDiedError,
} from "../../errors.ts";
import { AsyncResult, Pool, taskModule } from "../../pool/mod.ts";
import { cpuCount } from "../../process/mod.ts";
import { Lock } from "../../sync/lock.ts";
import { after, eventually, test, within } from "../_helpers.ts";
import { runProgram } from "../_run_program.ts";
import { Box } from "../testdata/box.ts";
import { counterGate } from "./_gates.ts";

const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;

/** Yields 1, then 2 once the test calls `release()`, so a test can act between the two reads. */
function oneThenOneLater(): { input: AsyncGenerator<number>; release(): void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  async function* input(): AsyncGenerator<number> {
    yield 1;
    await released;
    yield 2;
  }
  return { input: input(), release };
}

async function drainAll<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe("Pool", () => {
  // One pool for the tests that leave it healthy; worker start-up is slow under tsx.
  const pool = new Pool({ processes: 2 });
  after(() => pool.terminate());

  test("Pool.apply() returns the task's value", async () => {
    assert.equal(await within(pool.apply(tasks.fib, [20]), LIMIT), 6765);
  });

  test("Pool.apply() awaits an async task", async () => {
    assert.equal(await within(pool.apply(tasks.sleepy, [1, "late"]), LIMIT), "late");
  });

  test("Pool.applyAsync() returns an AsyncResult that is awaitable and reports its state", async () => {
    const result = pool.applyAsync(tasks.square, [7]);
    assert.ok(result instanceof AsyncResult);
    assert.throws(() => result.successful(), InvalidStateError);
    assert.equal(await within(result.get(LIMIT), LIMIT), 49);
    assert.equal(result.ready(), true);
    assert.equal(result.successful(), true);
    assert.equal(await result, 49);
    assert.equal(await result.wait(0), true);
  });

  test("AsyncResult.get() throws TimeoutError when not ready, and the task keeps running", async () => {
    const result = pool.applyAsync(tasks.sleepy, [200, "slow"]);
    await assert.rejects(result.get(1), TimeoutError);
    assert.equal(await result.wait(1), false);
    assert.equal(await within(result.get(), LIMIT), "slow");
  });

  test("Pool.applyAsync() calls callback or errorCallback", async () => {
    let got: unknown;
    const ok = pool.applyAsync(tasks.square, [5], { callback: (v) => got = v });
    await within(ok.get(), LIMIT);
    assert.equal(got, 25);
    let failure: unknown;
    const bad = pool.applyAsync(tasks.failRange, ["nope"], { errorCallback: (e) => failure = e });
    await within(bad.wait(), LIMIT);
    assert.equal(bad.successful(), false);
    assert.ok(failure instanceof RangeError);
    await assert.rejects(bad.get(), RangeError);
  });

  test("Pool.map() keeps input order with any chunksize", async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const squares = items.map((x) => x * x);
    assert.deepEqual(await within(pool.map(tasks.square, items), LIMIT), squares);
    assert.deepEqual(await within(pool.map(tasks.square, items, { chunksize: 1 }), LIMIT), squares);
    assert.deepEqual(await within(pool.map(tasks.square, items, { chunksize: 7 }), LIMIT), squares);
  });

  test("Pool.map() reads sync and async iterables, and an empty one", async () => {
    function* gen() {
      for (let i = 0; i < 5; i++) yield i;
    }
    async function* agen() {
      for (let i = 0; i < 5; i++) yield i;
    }
    assert.deepEqual(await within(pool.map(tasks.square, gen()), LIMIT), [0, 1, 4, 9, 16]);
    assert.deepEqual(await within(pool.map(tasks.square, agen()), LIMIT), [0, 1, 4, 9, 16]);
    assert.deepEqual(await within(pool.map(tasks.square, []), LIMIT), []);
  });

  test("Pool.map() awaits async tasks", async () => {
    assert.deepEqual(await within(pool.map(tasks.double, [1, 2, 3], { chunksize: 2 }), LIMIT), [2, 4, 6]);
  });

  test("Pool.map() rejects with the first task error", async () => {
    await assert.rejects(pool.map(tasks.failRange, ["a", "b"]), RangeError);
  });

  test("Pool.map() rejects a bad chunksize with RangeError", async () => {
    await assert.rejects(pool.map(tasks.square, [1], { chunksize: 0 }), RangeError);
  });

  test("Pool.mapAsync() resolves with all values and calls callback", async () => {
    let got: number[] | undefined;
    const result = pool.mapAsync(tasks.square, [1, 2, 3], { callback: (v) => got = v });
    assert.deepEqual(await within(result.get(), LIMIT), [1, 4, 9]);
    assert.deepEqual(got, [1, 4, 9]);
  });

  test("Pool.starmap() and starmapAsync() spread each argument list", async () => {
    const pairs: [number, number][] = [[1, 2], [3, 4], [5, 6]];
    assert.deepEqual(await within(pool.starmap(tasks.add, pairs), LIMIT), [3, 7, 11]);
    assert.deepEqual(await within(pool.starmap(tasks.add, pairs, { chunksize: 1 }), LIMIT), [3, 7, 11]);
    assert.deepEqual(await within(pool.starmapAsync(tasks.add, pairs, { chunksize: 2 }).get(), LIMIT), [3, 7, 11]);
  });

  test("Pool.imap() yields in input order; imapUnordered() yields every value", async () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const squares = items.map((x) => x * x);
    assert.deepEqual(await within(drainAll(pool.imap(tasks.square, items)), LIMIT), squares);
    assert.deepEqual(await within(drainAll(pool.imap(tasks.square, items, { chunksize: 8 })), LIMIT), squares);
    const unordered = await within(drainAll(pool.imapUnordered(tasks.square, items, { chunksize: 3 })), LIMIT);
    assert.deepEqual(unordered.sort((a, b) => a - b), squares);
  });

  test("Pool.imap() reads an async iterable", async () => {
    async function* agen() {
      for (let i = 0; i < 10; i++) yield i;
    }
    assert.deepEqual(await within(drainAll(pool.imap(tasks.double, agen())), LIMIT), [
      0,
      2,
      4,
      6,
      8,
      10,
      12,
      14,
      16,
      18,
    ]);
  });

  test("Pool.imap() pulls its input lazily, a bounded amount ahead", async () => {
    let pulled = 0;
    function* huge() {
      for (let i = 0; i < 10_000_000; i++) {
        pulled++;
        yield i;
      }
    }
    const it = pool.imap(tasks.identity, huge());
    const first = await within(it.next(), LIMIT);
    assert.deepEqual(first, { done: false, value: 0 });
    await within(it.next(), LIMIT);
    // The default window: 1024 items per worker.
    assert.ok(pulled <= 1024 * pool.processes, `pulled ${pulled} items`);
    await it.return!();
    const atReturn = pulled;
    assert.equal((await it.next()).done, true);
    assert.equal(pulled, atReturn);
  });

  test("Pool.imap() throws a task's error at its place and then goes on", async () => {
    const it = pool.imap(tasks.squareOrFail, [1, -2, 3, -4, 5]);
    assert.deepEqual(await within(it.next(), LIMIT), { done: false, value: 1 });
    await assert.rejects(within(it.next(), LIMIT), /negative: -2/);
    assert.deepEqual(await within(it.next(), LIMIT), { done: false, value: 9 });
    await assert.rejects(within(it.next(), LIMIT), /negative: -4/);
    assert.deepEqual(await within(it.next(), LIMIT), { done: false, value: 25 });
    assert.equal((await within(it.next(), LIMIT)).done, true);
  });

  test("Pool keeps the child's error: built-ins rebuilt, others as RemoteError", async () => {
    await assert.rejects(pool.apply(tasks.failRange, ["bad"]), (error: Error) => {
      assert.ok(error instanceof RangeError);
      assert.equal(error.message, "bad");
      assert.match(error.stack ?? "", /failRange/);
      return true;
    });
    await assert.rejects(pool.apply(tasks.failCustom, ["custom"]), (error: RemoteError) => {
      assert.ok(error instanceof RemoteError);
      assert.equal(error.remoteName, "CustomError");
      assert.equal(error.message, "custom");
      assert.match(error.remoteStack ?? "", /failCustom/);
      return true;
    });
    assert.equal(await within(pool.apply(tasks.square, [3]), LIMIT), 9);
  });

  test("Pool.apply() rejects with WorkerDiedError when the worker exits, and replaces it", async () => {
    await assert.rejects(pool.apply(tasks.exitWith, [3]), (error: WorkerDiedError) => {
      assert.ok(error instanceof WorkerDiedError);
      assert.equal(error.exitCode, 3);
      assert.match(error.message, /exitWith/);
      return true;
    });
    assert.equal(await within(pool.apply(tasks.square, [4]), LIMIT), 16);
  });

  test("Pool settles all 200 tasks when every 10th exits its worker", { timeout: 60_000 }, async () => {
    const items = Array.from({ length: 200 }, (_, i) => i);
    const settled = await within(
      Promise.allSettled(items.map((i) => pool.apply(tasks.exitEveryTenth, [i]))),
      LIMIT * 2,
    );
    const ok = settled.filter((s) => s.status === "fulfilled");
    const died = settled.filter((s) => s.status === "rejected");
    assert.equal(ok.length, 180);
    assert.equal(died.length, 20);
    for (const s of died) assert.ok((s as PromiseRejectedResult).reason instanceof WorkerDiedError);
    assert.deepEqual(ok.map((s) => (s as PromiseFulfilledResult<number>).value), items.filter((i) => i % 10 !== 9));
  });

  test("Pool.apply() with timeout stops a running task's worker and the pool recovers", async () => {
    // One worker, so the follow-up call must run on its replacement.
    await using one = new Pool({ processes: 1 });
    const before = await within(one.apply(tasks.whoAmI, []), LIMIT);
    await assert.rejects(one.apply(tasks.spin, [60_000], { timeout: 50 }), (error: Error) => {
      assert.ok(error instanceof TimeoutError);
      assert.match(error.message, /spin/);
      return true;
    });
    assert.notEqual(await within(one.apply(tasks.whoAmI, []), LIMIT), before, "a new worker runs the next task");
    assert.equal(await within(one.apply(tasks.square, [5]), LIMIT), 25);
  });

  test("Pool.apply() with a signal stops the worker running the task", async () => {
    await using one = new Pool({ processes: 1 });
    const before = await within(one.apply(tasks.whoAmI, []), LIMIT);
    const controller = new AbortController();
    const box = new Box();
    const running = one.apply(tasks.startThenBlock, [box, "never"], { signal: controller.signal });
    await within(box.until(0), LIMIT, "task start");
    const reason = new Error("enough");
    controller.abort(reason);
    await assert.rejects(within(running, LIMIT), (error) => error === reason);
    assert.notEqual(await within(one.apply(tasks.whoAmI, []), LIMIT), before, "a new worker runs the next task");
  });

  test("Pool.imap() with a timeout throws TimeoutError from the iterator", async () => {
    const it = pool.imap(tasks.blockOn, [new SharedArrayBuffer(4)], { timeout: 30 });
    await assert.rejects(within(it.next(), LIMIT), TimeoutError);
    assert.equal((await it.next()).done, true);
  });

  test("Pool.apply() with a signal rejects with its reason; a queued task is just removed", async () => {
    const busy = [pool.apply(tasks.sleepy, [100, "a"]), pool.apply(tasks.sleepy, [100, "b"])];
    const controller = new AbortController();
    const queued = pool.apply(tasks.square, [2], { signal: controller.signal });
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(queued, (error) => error === reason);
    assert.deepEqual(await within(Promise.all(busy), LIMIT), ["a", "b"]);
    await assert.rejects(pool.apply(tasks.square, [2], { signal: controller.signal }), (error) => error === reason);
  });

  test("Pool rejects arguments that cannot be sent, naming them", async () => {
    await assert.rejects(pool.apply(tasks.identity, [{ f: () => 1 }]), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /args\[0\]\.f/);
      return true;
    });
    await assert.rejects(pool.map(tasks.identity, [1, new Map([[1, () => 1]])]), TypeError);
  });

  test("Pool rejects a result that cannot be sent back, and keeps serving", async () => {
    await assert.rejects(pool.apply(tasks.returnsFunction, []), MaybeEncodingError);
    assert.equal(await within(pool.apply(tasks.square, [6]), LIMIT), 36);
  });
});

describe("Pool with shareable objects", () => {
  test("Pool passes a lock in initargs and in args as the same live lock", async () => {
    const lock = new Lock();
    const buffer = new SharedArrayBuffer(4);
    const pool = new Pool({ processes: 2, initializer: tasks.initShared, initargs: [lock, buffer] });
    try {
      const done = await within(pool.map(tasks.lockedIncrement, new Array(20).fill(1000), { chunksize: 1 }), LIMIT);
      assert.equal(done.length, 20);
      assert.equal(Atomics.load(new Int32Array(buffer), 0), 20_000, "no increment was lost: one lock for all");
      const more = Array.from({ length: 4 }, () => pool.apply(tasks.incrementWith, [lock, buffer, 500]));
      await within(Promise.all(more), LIMIT);
      assert.equal(Atomics.load(new Int32Array(buffer), 0), 22_000);
      assert.equal(lock.locked(), false);
    } finally {
      await pool.terminate();
    }
  });
});

describe("Pool with shareable items", () => {
  test("a map with chunksize 1 gets a lock that is itself the item, live", { timeout: 20_000 }, async () => {
    const lock = new Lock();
    await using pool = new Pool({ processes: 2 });
    lock.acquireSync();
    try {
      // The items travel as the arguments themselves, several to a message: each is revived.
      assert.deepEqual(await pool.map(tasks.isHeld, [lock, lock, lock, lock], { chunksize: 1 }), [
        true,
        true,
        true,
        true,
      ]);
    } finally {
      lock.release();
    }
    assert.deepEqual(await pool.map(tasks.isHeld, [lock, lock], { chunksize: 1 }), [false, false]);
  });
});

describe("Pool lifecycle", () => {
  test("Pool runs the initializer once per worker", async () => {
    await using pool = new Pool({ processes: 2, initializer: tasks.init, initargs: [{ tag: "cfg" }] });
    const states = await within(
      pool.map(tasks.initState, Array.from({ length: 40 }, () => 0), { chunksize: 1 }),
      LIMIT,
    );
    for (const state of states) {
      assert.equal(state.calls, 1);
      assert.deepEqual(state.value, { tag: "cfg" });
    }
  });

  test("Pool with maxTasksPerChild recycles workers", async () => {
    await using pool = new Pool({ processes: 2, maxTasksPerChild: 2 });
    const idents = await within(pool.map(tasks.whoAmI, Array.from({ length: 10 }, () => 0), { chunksize: 1 }), LIMIT);
    const distinct = new Set(idents);
    assert.ok(distinct.size >= 5, `saw ${distinct.size} workers`);
    for (const ident of distinct) assert.ok(idents.filter((i) => i === ident).length <= 2);
  });

  test("Pool.close() refuses new work, finishes pending work, and join() waits for the workers", async () => {
    const pool = new Pool({ processes: 2 });
    await assert.rejects(pool.join(), InvalidStateError);
    const pending = pool.map(tasks.square, [1, 2, 3]);
    pool.close();
    await assert.rejects(pool.apply(tasks.square, [1]), (error: Error) => {
      assert.ok(error instanceof InvalidStateError);
      assert.equal(error.message, "Cannot submit task \"square\": the pool is closed");
      return true;
    });
    assert.throws(() => pool.applyAsync(tasks.square, [1]), InvalidStateError);
    assert.throws(() => pool.imap(tasks.square, [1]), InvalidStateError);
    assert.deepEqual(await within(pending, LIMIT), [1, 4, 9]);
    await within(pool.join(), LIMIT, "join");
  });

  test("Pool.terminate() rejects pending work with CancelledError", async () => {
    const pool = new Pool({ processes: 1 });
    const running = assert.rejects(pool.apply(tasks.spin, [60_000]), CancelledError);
    const queued = assert.rejects(pool.apply(tasks.square, [2]), (error: Error) => {
      assert.ok(error instanceof CancelledError);
      assert.equal(error.message, "Cannot finish task \"square\": the pool was terminated");
      return true;
    });
    await within(pool.terminate(), LIMIT, "terminate");
    await running;
    await queued;
    await within(pool.join(), LIMIT, "join");
  });

  test("Pool.imap() fails instead of hanging when the pool is terminated under it", async () => {
    const pool = new Pool({ processes: 1 });
    const { input, release } = oneThenOneLater();
    const it = pool.imap(tasks.square, input);
    assert.deepEqual(await within(it.next(), LIMIT), { done: false, value: 1 });
    await within(pool.terminate(), LIMIT, "terminate");
    release();
    await assert.rejects(within(it.next(), LIMIT), CancelledError);
  });

  test("Pool.close() still serves an imap that reads more input afterwards", async () => {
    const pool = new Pool({ processes: 1 });
    const { input, release } = oneThenOneLater();
    const it = pool.imap(tasks.square, input);
    assert.deepEqual(await within(it.next(), LIMIT), { done: false, value: 1 });
    pool.close();
    release();
    assert.deepEqual(await within(it.next(), LIMIT), { done: false, value: 4 });
    assert.equal((await within(it.next(), LIMIT)).done, true);
    await within(pool.join(), LIMIT, "join");
  });

  test("Pool fails pending work without respawning when the initializer throws", async () => {
    const pool = new Pool({ processes: 2, initializer: tasks.initFails });
    await assert.rejects(within(pool.apply(tasks.square, [2]), LIMIT), (error: Error) => {
      assert.ok(error instanceof BrokenProcessPoolError);
      assert.match(error.message, /initializer failed on purpose/);
      return true;
    });
    await assert.rejects(pool.apply(tasks.square, [2]), BrokenProcessPoolError);
    await within(pool.terminate(), LIMIT, "terminate");
  });

  test("Pool fails pending work when the initializer's module is missing", async () => {
    const missing = { module: new URL("../testdata/no_such_module.ts", import.meta.url).href, name: "init" };
    const pool = new Pool({ processes: 1, initializer: missing });
    await assert.rejects(within(pool.map(tasks.square, [1, 2]), LIMIT), BrokenProcessPoolError);
    await within(pool.terminate(), LIMIT, "terminate");
  });

  test("Pool rejects a task from a missing module, and keeps serving", async () => {
    await using pool = new Pool({ processes: 1 });
    const missing = { module: new URL("../testdata/no_such_module.ts", import.meta.url).href, name: "f" };
    await assert.rejects(within(pool.apply(missing, []), LIMIT), /failed to load/);
    await assert.rejects(
      within(pool.apply({ module: tasks.square.module, name: "nope" }, []), LIMIT),
      /no exported function/,
    );
    assert.equal(await within(pool.apply(tasks.square, [3]), LIMIT), 9);
  });

  test("Pool rejects bad options", () => {
    assert.throws(() => new Pool({ processes: 0 }), RangeError);
    assert.throws(() => new Pool({ maxTasksPerChild: -1 }), RangeError);
    assert.throws(() => new Pool({ initializer: "init" as never }), TypeError);
  });

  test("Pool with a timed-out map stops the workers running it", async () => {
    // One worker, so the follow-up map must run on its replacement.
    await using pool = new Pool({ processes: 1 });
    const before = await within(pool.apply(tasks.whoAmI, []), LIMIT);
    await assert.rejects(within(pool.map(tasks.spin, [60_000, 60_000, 60_000], { timeout: 50 }), LIMIT), TimeoutError);
    assert.deepEqual(await within(pool.map(tasks.square, [1, 2]), LIMIT), [1, 4]);
    assert.notEqual(await within(pool.apply(tasks.whoAmI, []), LIMIT), before, "a new worker runs the next task");
  });
});

describe("Pool, documented behaviour", () => {
  const pool = new Pool({ processes: 2 });
  after(() => pool.terminate());

  test("Pool starts cpuCount() workers by default", async () => {
    await using defaulted = new Pool();
    assert.equal(defaulted.processes, cpuCount());
    assert.equal(await within(defaulted.apply(tasks.square, [3]), LIMIT), 9);
  });

  test("Pool.toString() shows its state; close() is idempotent and join() after terminate() resolves", async () => {
    const small = new Pool({ processes: 1 });
    assert.equal(String(small), "<Pool state=RUN pool_size=1>");
    small.close();
    small.close();
    assert.equal(String(small), "<Pool state=CLOSE pool_size=1>");
    await within(small.terminate(), LIMIT, "terminate");
    await within(small.join(), LIMIT, "join");
    await within(small.terminate(), LIMIT, "second terminate");
  });

  test("Pool.mapAsync() and starmapAsync() call errorCallback with the first error, not callback", async () => {
    for (
      const result of [
        (on: MapCallbacks) => pool.mapAsync(tasks.squareOrFail, [1, -1, 2], on),
        (on: MapCallbacks) => pool.starmapAsync(tasks.failRange, [["first"]], on),
      ]
    ) {
      const seen: unknown[] = [];
      const handle = result({ callback: (v) => seen.push(["callback", v]), errorCallback: (e) => seen.push(e) });
      await within(handle.wait(), LIMIT);
      assert.equal(handle.successful(), false);
      assert.equal(seen.length, 1);
      assert.ok(seen[0] instanceof RangeError, `got ${String(seen[0])}`);
      await assert.rejects(handle.get(), (e) => e === seen[0]);
    }
  });

  test("Pool.applyAsync() rejects its result, not the call, for an argument that cannot be sent", async () => {
    const result = pool.applyAsync(tasks.identity, [{ f: () => 1 }]);
    await assert.rejects(within(result.get(), LIMIT), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /args\[0\]\.f/);
      return true;
    });
  });

  test("Pool.map() with a signal rejects with its reason and stops the worker running it", async () => {
    await using one = new Pool({ processes: 1 });
    const before = await within(one.apply(tasks.whoAmI, []), LIMIT);
    const box = new Box();
    const controller = new AbortController();
    const mapped = one.map(tasks.startThenBlock, [box], { signal: controller.signal });
    await within(box.until(0), LIMIT, "task start");
    const reason = new Error("map no longer needed");
    controller.abort(reason);
    await assert.rejects(within(mapped, LIMIT), (error) => error === reason);
    assert.notEqual(await within(one.apply(tasks.whoAmI, []), LIMIT), before, "a new worker runs the next task");
  });

  test("Pool.imap() with a signal throws its reason from the iterator", async () => {
    const box = new Box();
    const controller = new AbortController();
    const it = pool.imap(tasks.startThenBlock, [box], { signal: controller.signal });
    const next = it.next();
    await within(box.until(0), LIMIT, "task start");
    const reason = new Error("imap no longer needed");
    controller.abort(reason);
    await assert.rejects(within(next, LIMIT), (error) => error === reason);
    assert.equal((await within(it.next(), LIMIT)).done, true);
  });

  test("Pool.imapUnordered() yields a value as soon as it is ready, before earlier items", async () => {
    const gate = new SharedArrayBuffer(4);
    const it = pool.imapUnordered(tasks.afterGate, [0, 1, 2].map((x) => ({ gate, x })));
    const first = await within(it.next(), LIMIT);
    assert.equal(first.done, false);
    assert.notEqual(first.value, 0, "item 0 waits for the gate, so it cannot come first");
    Atomics.store(new Int32Array(gate), 0, 1);
    Atomics.notify(new Int32Array(gate), 0);
    const rest = await within(drainAll(it), LIMIT);
    assert.deepEqual([first.value, ...rest].sort(), [0, 1, 2]);
  });

  test("Pool.imapUnordered() throws each task's error from the iterator and goes on", async () => {
    const it = pool.imapUnordered(tasks.squareOrFail, [1, -2, 3, -4]);
    const values: number[] = [];
    const errors: string[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        const r = await within(it.next(), LIMIT);
        assert.equal(r.done, false);
        values.push(r.value);
      } catch (error) {
        assert.ok(error instanceof RangeError, `got ${String(error)}`);
        errors.push(error.message);
      }
    }
    assert.equal((await within(it.next(), LIMIT)).done, true);
    assert.deepEqual(values.sort((a, b) => a - b), [1, 9]);
    assert.deepEqual(errors.sort(), ["negative: -2", "negative: -4"]);
  });

  test("Pool map-style calls reject an input that is not iterable with TypeError", async () => {
    const notIterable = 5 as unknown as number[];
    await assert.rejects(pool.map(tasks.square, notIterable), /must be an iterable or async iterable, got 5/);
    await assert.rejects(pool.mapAsync(tasks.square, notIterable).get(), TypeError);
    await assert.rejects(pool.starmap(tasks.add, notIterable as never), TypeError);
    assert.throws(() => pool.imap(tasks.square, notIterable), TypeError);
    assert.throws(() => pool.imapUnordered(tasks.square, null as never), TypeError);
  });

  test("Pool.starmap() rejects an item that is not an argument list, naming it, before running any", async () => {
    const counter = new SharedArrayBuffer(8);
    const items = [[counter, 0], 7] as unknown as [SharedArrayBuffer, number][];
    await assert.rejects(pool.starmap(tasks.tally, items), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /iterable\[1\] must be an array of arguments, got 7/);
      return true;
    });
    await assert.rejects(pool.starmapAsync(tasks.tally, items, { chunksize: 2 }).get(), TypeError);
    assert.equal(Atomics.load(new Int32Array(counter), 0), 0, "no item ran");
  });

  test("Pool reports a throwing callback as an uncaught error, after settling the result", async () => {
    const { code, stdout, stderr, timedOut } = await runProgram(
      new URL("../testdata/throwing_callback_main.ts", import.meta.url),
      LIMIT,
    );
    assert.equal(timedOut, false);
    assert.deepEqual(stdout.trim().split("\n"), ["result 9"], "the result settled with the task's value");
    assert.notEqual(code, 0, "the callback's error fails the program as an uncaught error");
    assert.match(stderr, /callback failed on purpose/);
  });

  test("Pool does not keep the program alive while idle", async () => {
    const { code, stdout, stderr, timedOut } = await runProgram(
      new URL("../testdata/idle_pool_main.ts", import.meta.url),
      LIMIT,
    );
    assert.equal(timedOut, false, "the program ended although its pool was never closed");
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split("\n"), ["result 4"]);
  });
});

type MapCallbacks = { callback: (values: number[]) => void; errorCallback: (error: unknown) => void };

/** A signal that counts the abort listeners added to it and removed from it. */
function countingSignal(): { signal: AbortSignal; live(): number } {
  const signal = new AbortController().signal;
  let live = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    live++;
    add(...args);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    live--;
    remove(...args);
  }) as typeof signal.removeEventListener;
  return { signal, live: () => live };
}

/** Count the timers of `delay` ms started and not cleared while `run` runs. */
async function timersLeft(delay: number, run: () => unknown): Promise<number> {
  const live = new Set<unknown>();
  const set = globalThis.setTimeout;
  const clear = globalThis.clearTimeout;
  globalThis.setTimeout = ((fn: () => void, ms?: number, ...rest: unknown[]) => {
    const id = set(fn, ms, ...rest);
    if (ms === delay) live.add(id);
    return id;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((id: ReturnType<typeof setTimeout>) => {
    live.delete(id);
    clear(id);
  }) as typeof clearTimeout;
  try {
    await run();
  } finally {
    globalThis.setTimeout = set;
    globalThis.clearTimeout = clear;
  }
  for (const id of live) clear(id as ReturnType<typeof setTimeout>);
  return live.size;
}

describe("Pool cleanup and exclusive jobs", () => {
  test("Pool.map() of an empty input leaves no timer or signal listener behind", { timeout: 20_000 }, async () => {
    await using pool = new Pool({ processes: 1 });
    const { signal, live } = countingSignal();
    const left = await timersLeft(987_654, async () => {
      assert.deepEqual(await pool.map(tasks.square, [], { timeout: 987_654, signal }), []);
    });
    assert.equal(left, 0, "timers left");
    assert.equal(live(), 0, "signal listeners left");
  });

  test("Pool.imap() whose set-up throws leaves no timer or signal listener behind", { timeout: 20_000 }, async () => {
    await using pool = new Pool({ processes: 1 });
    const { signal, live } = countingSignal();
    const left = await timersLeft(987_653, () => {
      assert.throws(() => pool.imap(tasks.square, 42 as never, { timeout: 987_653, signal }), TypeError);
    });
    assert.equal(left, 0, "timers left");
    assert.equal(live(), 0, "signal listeners left");
  });

  test("breaking out of Pool.imap() withdraws the jobs that have not started", { timeout: 20_000 }, async () => {
    await using pool = new Pool({ processes: 1 });
    for (const method of ["imap", "imapUnordered"] as const) {
      const gate = counterGate(1);
      // With a signal each job runs alone, so at most one job runs past the first.
      const input = Array.from({ length: 20 }, () => gate.buffer);
      for await (const n of pool[method](tasks.countThenWait, input, { signal: new AbortController().signal })) {
        assert.equal(n, 0);
        break;
      }
      gate.open();
      assert.equal(await within(pool.apply(tasks.square, [2]), LIMIT), 4);
      assert.ok(gate.count() <= 2, `${method}: ${gate.count()} of 20 jobs ran after the break`);
    }
  });

  test("aborting a call never runs another call twice", { timeout: 20_000 }, async () => {
    await using pool = new Pool({ processes: 1 });
    for (let round = 0; round < 3; round++) {
      // A worker that has just sent a result holds the next ones back for a moment, so the
      // call with a signal may be done and unreported when the plain call behind it starts.
      assert.equal(await within(pool.apply(tasks.square, [round]), LIMIT), round * round);
      const gate = counterGate(0);
      const controller = new AbortController();
      const guarded = pool.apply(tasks.square, [2], { signal: controller.signal });
      guarded.catch(() => {});
      const plain = pool.apply(tasks.countThenWait, [gate.buffer]);
      await eventually(() => gate.count() >= 1, LIMIT, "the plain call starting");
      controller.abort(new Error("stop"));
      gate.open();
      assert.equal(await within(plain, LIMIT), 0);
      assert.equal(gate.count(), 1, `round ${round}: the plain call ran ${gate.count()} times`);
    }
  });
});

describe("Pool balance", () => {
  test("a map whose item costs vary splits the slow items evenly and runs each item once", async () => {
    await using pool = new Pool({ processes: 2 });
    assert.deepEqual(await within(pool.map(tasks.square, [1, 2, 3, 4]), LIMIT), [1, 4, 9, 16]);
    // 200 instant items, then 40 of 20 ms: the slow ones must not sit in one worker's window.
    const n = 240;
    const counts = new SharedArrayBuffer(4 * n);
    const items = Array.from(
      { length: n },
      (_, i): [SharedArrayBuffer, number, number] => [counts, i, i < 200 ? 0 : 20],
    );
    const who = await within(pool.starmap(tasks.costly, items, { chunksize: 1 }), LIMIT);
    const perWorker = new Map<number, number>();
    for (const ident of who.slice(200)) perWorker.set(ident, (perWorker.get(ident) ?? 0) + 1);
    const split = [...perWorker.values()];
    assert.equal(split.length, 2, `slow items per worker: ${split}`);
    assert.ok(Math.min(...split) >= 14, `slow items per worker: ${split}`);
    assert.ok(new Int32Array(counts).every((runs) => runs === 1), "every item ran exactly once");
  });
});

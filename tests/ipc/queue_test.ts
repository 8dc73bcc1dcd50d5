import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EmptyError, FullError, InvalidStateError } from "../../errors.ts";
import { rings } from "../../ipc/_ops.ts";
import { JoinableQueue } from "../../ipc/joinable_queue.ts";
import { EMPTY_QUEUE_BYTES, Queue } from "../../ipc/queue.ts";
import { SimpleQueue } from "../../ipc/simple_queue.ts";
import { Process, taskModule } from "../../process/mod.ts";
import { Lock } from "../../sync/lock.ts";
import { within } from "../_helpers.ts";
import { LIMIT, runAll } from "../sync/_sync_helpers.ts";
import { Box } from "../testdata/box.ts";

const tasks = taskModule<typeof import("../testdata/ipc_tasks.ts")>(
  new URL("../testdata/ipc_tasks.ts", import.meta.url),
);
const SPAN = 10_000_000;

describe("Queue", () => {
  test("Queue carries every kind of value in order", { timeout: 20_000 }, async () => {
    const q = new Queue<unknown>();
    const values: unknown[] = [
      0,
      -1.5,
      NaN,
      Infinity,
      "",
      "short",
      "ünïcödé ✓ 𝄞",
      "long ".repeat(1000) + "✓",
      undefined,
      null,
      true,
      false,
      10n ** 30n,
      new Uint8Array([1, 2, 3]),
      new Int16Array([-1, 2]),
      new Float64Array([1.5, -2.5]),
      new BigInt64Array([5n]),
      new Float32Array(new Float32Array([1, 2, 3, 4]).buffer, 4, 2),
      { a: [1, { b: "c" }], m: new Map([[1, new Set([2])]]), d: new Date(5) },
      [1, "two", null],
      { plain: { nested: [1.5, "x", true, null, { deep: [] }] }, ["__proto__"]: 1 },
      JSON.parse("{\"__proto__\": {\"own\": true}}"),
      { gone: undefined, neg: -0, big: 1e300 },
      [1, , 3],
      Object.assign(Object.create(null), { bare: 1 }),
      { long: "y".repeat(500), list: Array.from({ length: 100 }, (_, i) => ({ i })) },
      new RangeError("boom"),
    ];
    for (const v of values) await q.put(v);
    assert.equal(q.qsize(), values.length);
    for (const v of values) {
      const got = await q.get();
      if (v instanceof Error) {
        assert.ok(got instanceof Error);
        assert.equal(got.message, v.message);
      } else assert.deepEqual(got, structuredClone(v)); // what postMessage would deliver
      if (ArrayBuffer.isView(v)) assert.equal(Object.getPrototypeOf(got), Object.getPrototypeOf(v));
    }
    assert.equal(q.empty(), true);
  });

  test("Queue sync, async and non-blocking forms share one FIFO", { timeout: 20_000 }, async () => {
    const q = new Queue<number>();
    q.putSync(1);
    await q.put(2);
    q.putNowait(3);
    assert.equal(q.getNowait(), 1);
    assert.equal(q.getSync(), 2);
    assert.equal(await q.get(), 3);
    assert.throws(() => q.getNowait(), EmptyError);
    await assert.rejects(q.get({ block: false }), EmptyError);
    await assert.rejects(q.get({ timeout: 30 }), EmptyError);
    assert.throws(() => q.getSync({ timeout: 30 }), { name: "EmptyError", message: /stayed empty for 30 ms/ });
  });

  test("Queue with maxsize refuses a non-blocking put when full and keeps the item", { timeout: 20_000 }, async () => {
    const q = new Queue<string>({ maxsize: 2 });
    q.putSync("a");
    q.putSync("b");
    assert.equal(q.full(), true);
    assert.throws(() => q.putNowait("c"), (e) => e instanceof FullError && e.value === "c");
    await assert.rejects(q.put("c", { timeout: 30 }), (e) => e instanceof FullError && e.value === "c");
    assert.equal(q.qsize(), 2);
    assert.equal(q.getSync(), "a");
    assert.equal(q.full(), false);
  });

  test("Queue with maxsize blocks a put until a get makes room", { timeout: 20_000 }, async () => {
    const q = new Queue<number>({ maxsize: 1 });
    await q.put(1);
    let done = false;
    const pending = q.put(2).then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(done, false);
    assert.equal(await q.get(), 1);
    await within(pending, LIMIT, "blocked put");
    assert.equal(await q.get(), 2);
  });

  test(
    "Queue with maxsize blocks producers in workers and unblocks them as items go",
    { timeout: 60_000 },
    async () => {
      const q = new Queue<number | null>({ maxsize: 4 });
      const n = 2000;
      const ps = [0, 1].map((id) => new Process({ target: tasks.produce, args: [q, id, n] }));
      for (const p of ps) p.start();
      let count = 0;
      let most = 0;
      while (count < 2 * n) {
        most = Math.max(most, q.qsize());
        await within(q.get(), LIMIT, "get from bounded queue");
        count++;
      }
      await within(Promise.all(ps.map((p) => p.join())), LIMIT, "producers");
      assert.ok(most <= 4, `the queue held ${most} items with maxsize 4`);
      assert.deepEqual(ps.map((p) => p.exitCode), [0, 0]);
    },
  );

  test(
    "Queue rejects a value that cannot be copied with TypeError and stays unchanged",
    { timeout: 20_000 },
    async () => {
      const q = new Queue<unknown>({ maxsize: 1 });
      class Point {
        x = 1;
      }
      assert.throws(() => q.putSync(() => 1), TypeError);
      await assert.rejects(q.put({ cb: Symbol("s") }), { name: "TypeError", message: /the item\.cb/ });
      await assert.rejects(q.put(new Point()), { name: "TypeError", message: /class Point/ });
      await assert.rejects(q.put(new WeakMap()), TypeError);
      assert.equal(q.qsize(), 0);
      q.putSync(1); // the only slot is still free
      assert.equal(q.getSync(), 1);
    },
  );

  test("Queue rejects a negative or NaN timeout with RangeError", { timeout: 20_000 }, async () => {
    const q = new Queue<number>();
    await assert.rejects(q.put(1, { timeout: -1 }), RangeError);
    await assert.rejects(q.get({ timeout: NaN }), RangeError);
    assert.throws(() => q.putSync(1, { timeout: NaN }), RangeError);
    assert.throws(() => q.getSync({ timeout: -5 }), RangeError);
    assert.throws(() => new Queue({ maxsize: -1 }), RangeError);
    assert.throws(() => new Queue({ bytes: 0 }), RangeError);
    assert.equal(q.qsize(), 0);
  });

  test("Queue.get() rejects with the signal reason", { timeout: 20_000 }, async () => {
    const q = new Queue<number>();
    const reason = new Error("stop");
    await assert.rejects(q.get({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    const controller = new AbortController();
    const pending = q.get({ signal: controller.signal });
    setTimeout(() => controller.abort(reason), 10);
    await assert.rejects(within(pending, LIMIT), (e) => e === reason);
    await q.put(7);
    assert.equal(await q.get(), 7);
  });

  test("Queue.close() fails puts, lets gets drain, then ends iteration", { timeout: 20_000 }, async () => {
    const q = new Queue<number>();
    await q.put(1);
    await q.put(2);
    q.close();
    assert.equal(q.closed, true);
    await assert.rejects(q.put(3), { name: "InvalidStateError", message: "Cannot put item on queue: it is closed" });
    const seen: number[] = [];
    for await (const x of q) seen.push(x);
    assert.deepEqual(seen, [1, 2]);
    await assert.rejects(q.get(), InvalidStateError);
    assert.throws(() => q.getSync(), { message: "Cannot get item from queue: it is closed and empty" });
  });

  test("Queue.close() wakes a consumer that waits on an empty queue", { timeout: 20_000 }, async () => {
    const q = new Queue<number>();
    const pending = q.get();
    setTimeout(() => q.close(), 20);
    await assert.rejects(within(pending, 2000, "get on a closed queue"), InvalidStateError);
  });

  test("Queue holds a million small items without a consumer (the ring grows)", { timeout: 30_000 }, () => {
    const q = new Queue<number>();
    for (let i = 0; i < 1_000_000; i++) q.putSync(i);
    assert.equal(q.qsize(), 1_000_000);
    for (let i = 0; i < 1000; i++) assert.equal(q.getSync(), i);
  });

  test("Queue with fixed bytes carries an item larger than its ring in pieces", { timeout: 20_000 }, async () => {
    const q = new Queue<Uint8Array>({ bytes: 1024 });
    const big = new Uint8Array(1 << 20).map((_, i) => i * 7);
    const put = q.put(big);
    const got = await within(q.get(), LIMIT, "get in pieces");
    await put;
    assert.equal(got.length, big.length);
    assert.ok(got.every((v, i) => v === big[i]));
    assert.throws(() => q.putNowait(big), FullError); // a non-blocking put never starts a piecewise item
  });

  test("Queue costs a small, fixed number of bytes when empty", { timeout: 20_000 }, () => {
    assert.ok(EMPTY_QUEUE_BYTES <= 8192, `${EMPTY_QUEUE_BYTES} bytes`);
  });

  test("Queue passed in args arrives live", { timeout: 60_000 }, async () => {
    const q = new Queue<unknown>();
    const out = new Queue<unknown>();
    await q.put({ n: 1 });
    await runAll(tasks.echo, [[q, out]]);
    assert.deepEqual(await out.get({ timeout: 1000 }), { n: 1 });
  });

  test(
    "Queue refuses shared memory inside an item with TypeError, as Python refuses a Lock",
    { timeout: 20_000 },
    async () => {
      const q = new Queue<unknown>();
      await assert.rejects(q.put({ lock: new Lock() }), { name: "TypeError", message: /the item\.lock .*sync\.Lock/ });
      await assert.rejects(q.put([new SharedArrayBuffer(8)]), TypeError);
      assert.equal(q.qsize(), 0);
    },
  );

  test("Queue: 4 producers and 4 consumers lose, duplicate and reorder nothing", { timeout: 60_000 }, async () => {
    const q = new Queue<number | null>();
    const results = new Queue<{ count: number; sum: number; ordered: boolean }>();
    const n = PER_PRODUCER;
    const producers = [0, 1, 2, 3].map((id) =>
      new Process({ target: id % 2 === 0 ? tasks.produce : tasks.produceAsync, args: [q, id, n] })
    );
    const consumers = [0, 1, 2, 3].map((id) =>
      new Process({ target: id % 2 === 0 ? tasks.consume : tasks.consumeAsync, args: [q, results, 4] })
    );
    for (const p of [...consumers, ...producers]) p.start();
    await within(Promise.all(producers.map((p) => p.join())), LIMIT, "producers");
    for (let i = 0; i < 4; i++) await q.put(null);
    await within(Promise.all(consumers.map((p) => p.join())), LIMIT, "consumers");
    for (const p of [...producers, ...consumers]) assert.equal(p.exitCode, 0, p.error?.stack ?? p.name);
    let count = 0;
    let sum = 0;
    for (let i = 0; i < 4; i++) {
      const r = await results.get({ timeout: 1000 });
      assert.ok(r.ordered, "a consumer saw one producer's items out of order");
      count += r.count;
      sum += r.sum;
    }
    let expected = 0;
    for (let id = 0; id < 4; id++) expected += id * SPAN * n + (n * (n - 1)) / 2;
    assert.equal(count, 4 * n);
    assert.equal(sum, expected);
  });

  test("Queue survives a producer terminated in the middle of a 10 MB item", { timeout: 60_000 }, async () => {
    const q = new Queue<Uint8Array | string>({ bytes: 64 * 1024 });
    const box = new Box();
    const p = new Process({ target: tasks.putHuge, args: [q as Queue<Uint8Array>, box, 10 * 1024 * 1024] });
    p.start();
    await box.until(0);
    // The ring fills with the first pieces, then the producer waits for room.
    await within(waitFor(() => ringFull(q)), LIMIT, "ring fill");
    p.terminate();
    await within(p.join(), LIMIT, "terminated producer");
    const pending = q.get();
    await q.put("after");
    assert.equal(await within(pending, 2000, "get after a torn item"), "after");
    await q.put("again");
    assert.equal(await q.get(), "again");
    assert.equal(q.qsize(), 0);
  });

  test(
    "Queue wakes a consumer blocked on a closed queue whose producer died mid-item",
    { timeout: 60_000 },
    async () => {
      const q = new Queue<Uint8Array>({ bytes: 64 * 1024 });
      const box = new Box();
      const p = new Process({ target: tasks.putHuge, args: [q, box, 10 * 1024 * 1024] });
      p.start();
      await box.until(0);
      await within(waitFor(() => ringFull(q)), LIMIT, "ring fill");
      p.terminate();
      await within(p.join(), LIMIT, "terminated producer");
      const pending = q.get();
      q.close();
      await assert.rejects(within(pending, 2000, "get on a closed queue"), InvalidStateError);
    },
  );
});

describe("SimpleQueue", () => {
  test("SimpleQueue puts and gets in order, sync and async", { timeout: 20_000 }, async () => {
    const q = new SimpleQueue<string>();
    assert.equal(q.empty(), true);
    await q.put("a");
    q.putSync("b");
    assert.equal(q.empty(), false);
    assert.equal(await q.get(), "a");
    assert.equal(q.getSync(), "b");
    await assert.rejects(q.get({ timeout: 20 }), EmptyError);
    q.close();
    await assert.rejects(q.put("c"), InvalidStateError);
  });
});

describe("JoinableQueue", () => {
  test("JoinableQueue.join() waits for 4 workers to mark every task done", { timeout: 60_000 }, async () => {
    const q = new JoinableQueue<number | null>();
    const box = new Box();
    for (let i = 1; i <= 400; i++) await q.put(i);
    for (let i = 0; i < 4; i++) await q.put(null);
    const ps = [0, 1, 2, 3].map(() => new Process({ target: tasks.worker, args: [q, box] }));
    for (const p of ps) p.start();
    await within(q.join(), LIMIT, "join");
    assert.equal(Atomics.load(box.flags, 2), (400 * 401) / 2);
    await within(Promise.all(ps.map((p) => p.join())), LIMIT, "workers");
    assert.throws(() => q.taskDone(), InvalidStateError);
  });

  test("JoinableQueue.join() does not wait for an item whose producer died mid-put", { timeout: 60_000 }, async () => {
    const q = new JoinableQueue<Uint8Array | string>({ bytes: 64 * 1024 });
    const box = new Box();
    const p = new Process({ target: tasks.putHuge, args: [q as Queue<Uint8Array>, box, 10 * 1024 * 1024] });
    p.start();
    await box.until(0);
    await within(waitFor(() => ringFull(q)), LIMIT, "ring fill");
    p.terminate();
    await within(p.join(), LIMIT, "terminated producer");
    const pending = q.get(); // reads the first pieces, then drops the torn item
    await within(q.join(), 2000, "join after a torn item");
    await q.put("after");
    assert.equal(await within(pending, 2000, "get after a torn item"), "after");
    q.taskDone();
    await within(q.join(), 2000, "join");
  });

  test("JoinableQueue.join() times out while tasks are unfinished", { timeout: 20_000 }, async () => {
    const q = new JoinableQueue<number>();
    await q.put(1);
    await assert.rejects(q.join({ timeout: 30 }), { name: "TimeoutError" });
    assert.throws(() => q.joinSync({ timeout: 30 }), { name: "TimeoutError" });
    await q.get();
    q.taskDone();
    q.joinSync();
    await q.join({ timeout: 10 });
  });
});

const PER_PRODUCER = 250_000;

async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 2));
}

// A ring of 64 KiB that cannot take another piece holds at least 48 KiB.
function ringFull(q: Queue<unknown>): boolean {
  return rings.get(q)!.usedBytes() > 48 * 1024;
}

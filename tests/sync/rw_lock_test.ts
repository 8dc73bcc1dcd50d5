import assert from "node:assert/strict";
import { describe } from "node:test";
import { InvalidStateError, TimeoutError } from "../../errors.ts";
import { Process, taskModule } from "../../process/mod.ts";
import { RWLock } from "../../sync/rw_lock.ts";
import { test, within } from "../_helpers.ts";
import { Box } from "../testdata/box.ts";
import { assertTimedOut, LIMIT, runAll, withoutBlocking } from "./_sync_helpers.ts";

const tasks = taskModule<typeof import("../testdata/sync_tasks.ts")>(
  new URL("../testdata/sync_tasks.ts", import.meta.url),
);

describe("RWLock", () => {
  test("RWLock lets readers share and a writer exclude everyone", async () => {
    const rw = new RWLock();
    assert.equal(await rw.acquireRead(), true);
    assert.equal(rw.acquireReadSync(), true);
    assert.equal(rw.readers, 2);
    assert.equal(await rw.acquireWrite({ blocking: false }), false);
    rw.releaseRead();
    rw.releaseRead();
    assert.equal(await rw.acquireWrite(), true);
    assert.equal(rw.writeLocked, true);
    assert.equal(await rw.acquireRead({ blocking: false }), false);
    assert.equal(rw.acquireWriteSync({ blocking: false }), false);
    rw.releaseWrite();
    assert.equal(rw.writeLocked, false);
  });

  test("RWLock.releaseRead() and releaseWrite() throw InvalidStateError when not held", () => {
    const rw = new RWLock();
    assert.throws(() => rw.releaseRead(), InvalidStateError);
    assert.throws(() => rw.releaseWrite(), InvalidStateError);
  });

  test("RWLock.releaseWrite() refuses a thread that does not hold the write side and changes nothing", {
    timeout: 20_000,
  }, async () => {
    const rw = new RWLock();
    assert.equal(rw.acquireWriteSync(), true);
    const box = new Box();
    await runAll(tasks.releaseWriteForeign, [[rw, box]]);
    assert.equal(box.read(), "InvalidStateError");
    assert.equal(rw.writeLocked, true);
    assert.equal(await rw.acquireRead({ blocking: false }), false);
    rw.releaseWrite();
    // This thread's own writer still waiting for a reader to leave does not hold it either.
    assert.equal(await rw.acquireRead(), true);
    const writer = rw.acquireWrite({ timeout: LIMIT });
    assert.throws(() => rw.releaseWrite(), InvalidStateError);
    assert.equal(rw.readers, 1);
    assert.equal(rw.writeLocked, false);
    rw.releaseRead();
    assert.equal(await within(writer, LIMIT), true);
    assert.equal(rw.writeLocked, true);
    rw.releaseWrite();
    assert.equal(rw.writeLocked, false);
    assert.equal(rw.readers, 0);
    assert.equal(rw.acquireWriteSync({ blocking: false }), true);
    rw.releaseWrite();
  });

  test("RWLock.read() and write() return disposables", async () => {
    const rw = new RWLock();
    {
      using _ = await rw.read();
      assert.equal(rw.readers, 1);
      await assert.rejects(rw.write({ timeout: 10 }), TimeoutError);
    }
    {
      using _ = await rw.write();
      assert.equal(rw.writeLocked, true);
    }
    {
      using _ = rw.readSync();
    }
    {
      using _ = rw.writeSync();
    }
    assert.equal(rw.readers, 0);
    assert.equal(rw.writeLocked, false);
  });

  test("RWLock.acquireWrite() returns false near its timeout and rejects on abort", async () => {
    const rw = new RWLock();
    await rw.acquireRead();
    let started = performance.now();
    assert.equal(await within(rw.acquireWrite({ timeout: 40 }), LIMIT), false);
    assertTimedOut(started, 40);
    started = performance.now();
    assert.equal(rw.acquireWriteSync({ timeout: 40 }), false);
    assertTimedOut(started, 40);
    const reason = new Error("abandon");
    const controller = new AbortController();
    const pending = rw.acquireWrite({ signal: controller.signal });
    setTimeout(() => controller.abort(reason), 5);
    await assert.rejects(within(pending, LIMIT), (e) => e === reason);
    // The abandoned writer no longer holds readers back.
    assert.equal(await rw.acquireRead({ blocking: false }), true);
    rw.releaseRead();
    rw.releaseRead();
    await assert.rejects(rw.acquireRead({ timeout: NaN }), RangeError);
  });

  test("RWLock.readSync() throws a TypeError naming the async form where blocking is not allowed", () => {
    withoutBlocking(() => {
      assert.throws(() => new RWLock().acquireReadSync(), { name: "TypeError", message: /acquireRead\(\)/ });
      assert.throws(() => new RWLock().writeSync(), { name: "TypeError", message: /await rwLock\.write\(\)/ });
    });
  });

  test("RWLock readers in 3 workers hold the read side at the same time", async () => {
    const rw = new RWLock();
    const counters = new SharedArrayBuffer(8);
    const args: [RWLock, SharedArrayBuffer, number] = [rw, counters, 3];
    await runAll(tasks.readTogether, [args, args, args]);
    assert.equal(new Int32Array(counters)[1], 3);
  });

  test("RWLock writer excludes readers and writers in workers", async () => {
    const rw = new RWLock();
    const counter = new SharedArrayBuffer(8);
    const n = 3000;
    const workers = runAll(tasks.rwCount, [[rw, counter, n], [rw, counter, n]]);
    await within(workers, LIMIT);
    assert.equal(new Int32Array(counter)[0], 2 * n);
  });

  test("RWLock writer is not starved by a stream of readers", async () => {
    const rw = new RWLock();
    const stop = new SharedArrayBuffer(4);
    const box = new Box();
    const ps = [0, 1].map(() => new Process({ target: tasks.readStream, args: [rw, stop, box] }));
    for (const p of ps) p.start();
    await within(box.until(0), LIMIT, "readers streaming");
    assert.equal(await within(rw.acquireWrite({ timeout: 10_000 }), LIMIT), true);
    assert.equal(rw.readers, 0);
    Atomics.store(new Int32Array(stop), 0, 1);
    rw.releaseWrite();
    await within(Promise.all(ps.map((p) => p.join())), LIMIT);
    for (const p of ps) assert.equal(p.exitCode, 0, p.error?.stack ?? "");
  });

  test("RWLock.ownerDied is true for the next writer after the writer is terminated", async () => {
    const rw = new RWLock();
    const box = new Box();
    const p = new Process({ target: tasks.holdWriteForever, args: [rw, box] });
    p.start();
    await within(box.until(0), LIMIT, "worker taking the write side");
    const waiting = rw.acquireWrite({ timeout: LIMIT });
    p.terminate();
    assert.equal(await within(waiting, LIMIT), true);
    assert.equal(rw.ownerDied, true);
    rw.releaseWrite();
    assert.equal(rw.ownerDied, false);
    await within(p.join(), LIMIT);
  });

  test("RWLock keeps an exact reader count under readers and writers in 4 workers", { timeout: 60_000 }, async () => {
    const rw = new RWLock();
    const counters = new SharedArrayBuffer(16);
    const c = new Int32Array(counters);
    const n = 4000;
    const every = 8;
    const workers = runAll(tasks.readCountMix, [
      [rw, counters, n, every, false],
      [rw, counters, n, every, false],
      [rw, counters, n, every, true],
      [rw, counters, n, every, true],
    ]);
    // Meanwhile this thread takes the write side now and then: no reader may be inside.
    let done = false;
    const finished = workers.finally(() => done = true);
    let checks = 0;
    while (!done) {
      assert.equal(await within(rw.acquireWrite({ timeout: LIMIT }), LIMIT), true);
      assert.equal(Atomics.load(c, 0), 0);
      assert.equal(rw.readers, 0);
      const reads = Atomics.load(c, 1);
      await new Promise((resolve) => setTimeout(resolve, 1));
      assert.equal(Atomics.load(c, 1), reads, "a read went through under the write side");
      rw.releaseWrite();
      checks++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await finished;
    const writes = 4 * Math.floor(n / every);
    assert.equal(c[1], 4 * n - writes);
    assert.equal(c[2], writes);
    assert.equal(c[3], 0, "a worker saw a reader beside a writer");
    assert.ok(checks > 0);
    assert.equal(rw.readers, 0);
    assert.equal(rw.writeLocked, false);
    assert.equal(rw.acquireWriteSync({ blocking: false }), true);
    rw.releaseWrite();
  });

  test(
    "RWLock writer waits while the readers inside drain, and new readers wait behind it",
    { timeout: 30_000 },
    async () => {
      const rw = new RWLock();
      // In this thread, async: a waiting writer keeps new readers out until the reader leaves.
      assert.equal(await rw.acquireRead(), true);
      let wrote = false;
      const writer = rw.acquireWrite({ timeout: LIMIT }).then((ok) => wrote = ok);
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.equal(wrote, false);
      assert.equal(rw.writeLocked, false);
      assert.equal(rw.readers, 1);
      assert.equal(await rw.acquireRead({ blocking: false }), false);
      const lateReader = rw.acquireRead({ timeout: LIMIT });
      rw.releaseRead();
      await within(writer, LIMIT, "writer after the reader left");
      assert.equal(wrote, true);
      assert.equal(rw.writeLocked, true);
      assert.equal(rw.readers, 0);
      rw.releaseWrite();
      assert.equal(await within(lateReader, LIMIT, "reader behind the writer"), true);
      rw.releaseRead();
      // Across threads, blocking: a reader in a worker holds the read side until it sees the
      // writer waiting; this thread's blocking writer gets in once it leaves.
      const box = new Box();
      const p = new Process({ target: tasks.readUntilWriterWaits, args: [rw, box] });
      p.start();
      await within(box.until(0), LIMIT, "worker taking the read side");
      assert.equal(rw.acquireWriteSync({ timeout: LIMIT }), true);
      assert.equal(rw.readers, 0);
      rw.releaseWrite();
      await within(p.join(), LIMIT);
      assert.equal(p.exitCode, 0, p.error?.stack ?? "");
      assert.equal(box.flags[2], 1, "the worker's second read was not refused while the writer waited");
    },
  );

  test("RWLock readers waiting on a writer get in when the writer is terminated", { timeout: 30_000 }, async () => {
    const rw = new RWLock();
    const writerBox = new Box();
    const writer = new Process({ target: tasks.holdWriteForever, args: [rw, writerBox] });
    writer.start();
    await within(writerBox.until(0), LIMIT, "worker taking the write side");
    const readerBox = new Box();
    const reader = new Process({ target: tasks.readAfterWriter, args: [rw, readerBox] });
    reader.start();
    await within(readerBox.until(0), LIMIT, "worker waiting for the read side");
    const mine = rw.acquireRead({ timeout: LIMIT });
    assert.equal(await rw.acquireRead({ blocking: false }), false);
    writer.terminate();
    assert.equal(await within(mine, LIMIT, "this thread's read after the writer died"), true);
    await within(readerBox.until(1), LIMIT, "worker's read after the writer died");
    assert.equal(rw.readers, 2);
    assert.equal(rw.writeLocked, false);
    assert.equal(rw.ownerDied, true);
    rw.releaseRead();
    readerBox.raise(2);
    await within(reader.join(), LIMIT);
    assert.equal(reader.exitCode, 0, reader.error?.stack ?? "");
    assert.equal(rw.ownerDied, false);
    assert.equal(rw.readers, 0);
    assert.equal(await rw.acquireWrite({ blocking: false }), true);
    rw.releaseWrite();
    await within(writer.join(), LIMIT);
  });

  test("RWLock lets readers and writers in after a writer is terminated while waiting for readers", {
    timeout: 30_000,
  }, async () => {
    const rw = new RWLock();
    assert.equal(await rw.acquireRead(), true);
    const box = new Box();
    const writer = new Process({ target: tasks.waitWriteForever, args: [rw, box] });
    writer.start();
    await within(box.until(0), LIMIT, "worker about to wait for the write side");
    // The worker's writer keeps new readers out while this thread's reader stays inside.
    const deadline = performance.now() + LIMIT;
    while (await rw.acquireRead({ blocking: false })) {
      rw.releaseRead();
      assert.ok(performance.now() < deadline, "the worker's writer never showed");
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    writer.terminate();
    await within(writer.join(), LIMIT);
    assert.equal(box.flags[1], 0);
    // A second read in the same thread would wait forever behind a live writer.
    assert.equal(await within(rw.acquireRead({ timeout: LIMIT }), LIMIT), true);
    assert.equal(rw.readers, 2);
    assert.equal(rw.ownerDied, true);
    rw.releaseRead();
    rw.releaseRead();
    assert.equal(rw.ownerDied, false);
    assert.equal(await rw.acquireWrite({ timeout: LIMIT }), true);
    assert.equal(rw.ownerDied, false);
    rw.releaseWrite();
    assert.equal(rw.readers, 0);
  });

  test("RWLock's Sync forms throw an already aborted signal's reason", () => {
    const rw = new RWLock();
    const reason = new Error("no");
    const signal = AbortSignal.abort(reason);
    assert.throws(() => rw.acquireReadSync({ signal }), (e) => e === reason);
    assert.throws(() => rw.acquireWriteSync({ signal }), (e) => e === reason);
    assert.throws(() => rw.readSync({ signal }), (e) => e === reason);
    assert.throws(() => rw.writeSync({ signal }), (e) => e === reason);
    assert.equal(rw.readers, 0);
  });

  test("RWLock.read() and readSync() throw TimeoutError while the write side is held", async () => {
    const rw = new RWLock();
    await rw.acquireWrite();
    await assert.rejects(rw.read({ timeout: 10 }), TimeoutError);
    assert.throws(() => rw.readSync({ timeout: 10 }), TimeoutError);
    assert.equal(rw.readers, 0);
    rw.releaseWrite();
  });
});

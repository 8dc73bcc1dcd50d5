import assert from "node:assert/strict";
import { describe } from "node:test";
import { InvalidStateError } from "../../errors.ts";
import { Process, taskModule } from "../../process/mod.ts";
import { RLock } from "../../sync/rlock.ts";
import { test, within } from "../_helpers.ts";
import { Box } from "../testdata/box.ts";
import { assertTimedOut, LIMIT, runAll, withoutBlocking } from "./_sync_helpers.ts";

const tasks = taskModule<typeof import("../testdata/sync_tasks.ts")>(
  new URL("../testdata/sync_tasks.ts", import.meta.url),
);

describe("RLock", () => {
  test("RLock.acquire() nests in one thread and needs as many releases", async () => {
    const lock = new RLock();
    assert.equal(await lock.acquire(), true);
    assert.equal(lock.acquireSync(), true);
    assert.equal(await lock.acquire({ blocking: false }), true);
    lock.release();
    lock.release();
    assert.equal(lock.locked(), true);
    lock.release();
    assert.equal(lock.locked(), false);
  });

  test("RLock.release() throws InvalidStateError when this thread does not hold it", async () => {
    const lock = new RLock();
    assert.throws(() => lock.release(), InvalidStateError);
    await lock.acquire();
    const box = new Box();
    await runAll(tasks.releaseForeign, [[lock, box]]);
    assert.equal(box.read(), "InvalidStateError");
    assert.equal(lock.locked(), true);
    lock.release();
  });

  test("RLock.acquire() in another thread returns false near its timeout", async () => {
    const lock = new RLock();
    const box = new Box();
    const p = new Process({ target: tasks.holdForever, args: [lock, box] });
    p.start();
    await within(box.until(0), LIMIT, "worker taking the lock");
    const started = performance.now();
    assert.equal(await lock.acquire({ timeout: 40 }), false);
    assertTimedOut(started, 40);
    p.terminate();
    assert.equal(await lock.acquire({ timeout: LIMIT }), true);
    assert.equal(lock.ownerDied, true);
    assert.equal(await lock.acquire(), true);
    lock.release();
    assert.equal(lock.ownerDied, true);
    lock.release();
    assert.equal(lock.ownerDied, false);
    await within(p.join(), LIMIT);
  });

  test("RLock keeps 4 workers' non-atomic counter increments exact", async () => {
    const lock = new RLock();
    const counter = new SharedArrayBuffer(4);
    const args: [RLock, SharedArrayBuffer, number] = [lock, counter, 20_000];
    await runAll(tasks.lockCount, [args, args, args, args]);
    assert.equal(new Int32Array(counter)[0], 80_000);
  });

  test("RLock.acquire() rejects with the signal reason and bad timeouts", async () => {
    const lock = new RLock();
    const reason = new Error("no");
    await assert.rejects(lock.acquire({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    await assert.rejects(lock.acquire({ timeout: -1 }), RangeError);
    withoutBlocking(() => assert.throws(() => lock.acquireSync(), TypeError));
  });

  test("RLock.hold() releases one level on dispose", async () => {
    const lock = new RLock();
    {
      using _a = await lock.hold();
      using _b = lock.holdSync();
      assert.equal(lock.locked(), true);
    }
    assert.equal(lock.locked(), false);
  });

  test("RLock.acquireSync() and holdSync() throw an already aborted signal's reason", () => {
    const lock = new RLock();
    const reason = new Error("no");
    assert.throws(() => lock.acquireSync({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    assert.throws(() => lock.holdSync({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    assert.equal(lock.locked(), false);
  });
});

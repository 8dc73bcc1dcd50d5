import assert from "node:assert/strict";
import { describe } from "node:test";
import { InvalidStateError, TimeoutError } from "../../errors.ts";
import { Process, taskModule } from "../../process/mod.ts";
import { Condition } from "../../sync/condition.ts";
import { Lock } from "../../sync/lock.ts";
import { eventually, test, within } from "../_helpers.ts";
import { Box } from "../testdata/box.ts";
import { assertTimedOut, LIMIT, runAll, withoutBlocking } from "./_sync_helpers.ts";

const tasks = taskModule<typeof import("../testdata/sync_tasks.ts")>(
  new URL("../testdata/sync_tasks.ts", import.meta.url),
);
const PER_WORKER = 100_000;

describe("Lock", () => {
  test("Lock.acquire() and release() toggle locked()", async () => {
    const lock = new Lock();
    assert.equal(lock.locked(), false);
    assert.equal(await lock.acquire(), true);
    assert.equal(lock.locked(), true);
    lock.release();
    assert.equal(lock.locked(), false);
    assert.equal(lock.acquireSync(), true);
    assert.equal(lock.acquireSync({ blocking: false }), false);
    lock.release();
  });

  test("Lock.release() throws InvalidStateError when it is not locked", () => {
    const lock = new Lock();
    assert.throws(() => lock.release(), InvalidStateError);
    assert.throws(() => lock.release(), { message: "Cannot release lock: it is not locked" });
  });

  test("Lock.acquire() with blocking false returns false at once when held", async () => {
    const lock = new Lock();
    await lock.acquire();
    const started = performance.now();
    assert.equal(await lock.acquire({ blocking: false }), false);
    assert.ok(performance.now() - started < 1000);
    lock.release();
  });

  test("Lock.acquire() returns false near its timeout", async () => {
    const lock = new Lock();
    await lock.acquire();
    const started = performance.now();
    assert.equal(await within(lock.acquire({ timeout: 50 }), LIMIT), false);
    assertTimedOut(started, 50);
  });

  test("Lock.acquireSync() returns false near its timeout", () => {
    const lock = new Lock();
    lock.acquireSync();
    const started = performance.now();
    assert.equal(lock.acquireSync({ timeout: 50 }), false);
    assertTimedOut(started, 50);
  });

  test("Lock.acquire() rejects with the signal reason", async () => {
    const lock = new Lock();
    await lock.acquire();
    const reason = new Error("stop waiting");
    await assert.rejects(lock.acquire({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    const controller = new AbortController();
    const pending = lock.acquire({ signal: controller.signal });
    setTimeout(() => controller.abort(reason), 10);
    await assert.rejects(within(pending, LIMIT), (e) => e === reason);
    assert.throws(() => lock.acquireSync({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    lock.release();
  });

  test("Lock.acquire() rejects a negative or NaN timeout with RangeError", async () => {
    const lock = new Lock();
    await assert.rejects(lock.acquire({ timeout: -1 }), RangeError);
    await assert.rejects(lock.acquire({ timeout: NaN }), RangeError);
    assert.throws(() => lock.acquireSync({ timeout: -1 }), RangeError);
    assert.equal(lock.locked(), false);
  });

  test("Lock.acquireSync() throws a TypeError naming the async form where blocking is not allowed", () => {
    const lock = new Lock();
    withoutBlocking(() => {
      assert.throws(() => lock.acquireSync(), { name: "TypeError", message: /await lock\.acquire\(\)/ });
      assert.throws(() => lock.holdSync(), { name: "TypeError", message: /await lock\.hold\(\)/ });
    });
  });

  test("Lock.hold() returns a disposable that releases the lock", async () => {
    const lock = new Lock();
    {
      using _ = await lock.hold();
      assert.equal(lock.locked(), true);
    }
    assert.equal(lock.locked(), false);
    {
      using _ = lock.holdSync();
      assert.equal(lock.locked(), true);
      await assert.rejects(lock.hold({ timeout: 10 }), TimeoutError);
    }
    assert.equal(lock.locked(), false);
  });

  test("Lock.acquire() waits for a release from another task", async () => {
    const lock = new Lock();
    await lock.acquire();
    const pending = lock.acquire({ timeout: LIMIT });
    setTimeout(() => lock.release(), 5);
    assert.equal(await within(pending, LIMIT), true);
    lock.release();
  });

  test("Lock keeps 4 workers' non-atomic counter increments exact", async () => {
    const lock = new Lock();
    const counter = new SharedArrayBuffer(4);
    await runAll(
      tasks.lockCount,
      [0, 1, 2, 3].map(() => [lock, counter, PER_WORKER] as [Lock, SharedArrayBuffer, number]),
    );
    assert.equal(new Int32Array(counter)[0], 4 * PER_WORKER);
    assert.equal(lock.locked(), false);
  });

  test("Lock keeps counter increments exact with the async forms in workers and the main thread", async () => {
    const lock = new Lock();
    const counter = new SharedArrayBuffer(4);
    const n = 2000;
    const workers = runAll(tasks.lockCountAsync, [[lock, counter, n], [lock, counter, n]]);
    const c = new Int32Array(counter);
    for (let i = 0; i < n; i++) {
      using _ = await lock.hold();
      c[0] = c[0] + 1;
    }
    await workers;
    assert.equal(c[0], 3 * n);
  });

  test("Lock.ownerDied is true for the next acquirer after the holder is terminated", async () => {
    const lock = new Lock();
    const box = new Box();
    const p = new Process({ target: tasks.holdForever, args: [lock, box] });
    p.start();
    await within(box.until(0), LIMIT, "worker taking the lock");
    const waiting = lock.acquire({ timeout: LIMIT });
    // Not for synchronisation: lets the waiter reach its sleep, the path that must notice.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const killed = performance.now();
    p.terminate();
    assert.equal(await within(waiting, LIMIT), true);
    const took = performance.now() - killed;
    assert.ok(took < 1000, `took ${took.toFixed(0)} ms to notice the dead owner`);
    assert.equal(lock.ownerDied, true);
    lock.release();
    assert.equal(lock.ownerDied, false);
    await within(p.join(), LIMIT);
  });

  test("Lock.release() works from another thread, as in Python", async () => {
    const lock = new Lock();
    await lock.acquire();
    const box = new Box();
    await runAll(tasks.releaseForeign, [[lock, box]]);
    assert.equal(box.read(), "released");
    assert.equal(lock.locked(), false);
  });

  test("Lock is accepted by Condition while a look-alike is refused", () => {
    assert.doesNotThrow(() => new Condition(new Lock()));
    const fake = { acquire() {}, release() {}, locked: () => false };
    assert.throws(() => new Condition(fake as unknown as Lock), TypeError);
  });

  test("Lock waiters all get the lock in turn", async () => {
    const lock = new Lock();
    await lock.acquire();
    let done = 0;
    const waiters = [0, 1, 2].map(() => lock.acquire({ timeout: LIMIT }).then(() => (done++, lock.release())));
    lock.release();
    await within(Promise.all(waiters), LIMIT);
    await eventually(() => done === 3, LIMIT, "three waiters");
  });
});

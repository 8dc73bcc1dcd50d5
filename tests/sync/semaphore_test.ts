import assert from "node:assert/strict";
import { describe } from "node:test";
import { InvalidStateError, TimeoutError } from "../../errors.ts";
import { Process, taskModule } from "../../process/mod.ts";
import { BoundedSemaphore, Semaphore } from "../../sync/semaphore.ts";
import { test, within } from "../_helpers.ts";
import { Box } from "../testdata/box.ts";
import { assertTimedOut, LIMIT, runAll, withoutBlocking } from "./_sync_helpers.ts";

const tasks = taskModule<typeof import("../testdata/sync_tasks.ts")>(
  new URL("../testdata/sync_tasks.ts", import.meta.url),
);

describe("Semaphore", () => {
  test("Semaphore.acquire() and release() count slots", async () => {
    const sem = new Semaphore(2);
    assert.equal(sem.getValue(), 2);
    assert.equal(await sem.acquire(), true);
    assert.equal(sem.acquireSync(), true);
    assert.equal(sem.getValue(), 0);
    assert.equal(await sem.acquire({ blocking: false }), false);
    sem.release(2);
    assert.equal(sem.getValue(), 2);
    sem.release();
    assert.equal(sem.getValue(), 3);
    assert.equal(new Semaphore().getValue(), 1);
  });

  test("Semaphore rejects a negative or fractional value with RangeError", () => {
    assert.throws(() => new Semaphore(-1), RangeError);
    assert.throws(() => new Semaphore(1.5), RangeError);
    assert.throws(() => new BoundedSemaphore(-1), RangeError);
    assert.doesNotThrow(() => new Semaphore(0));
  });

  test("Semaphore.release() rejects a non-positive n with RangeError", () => {
    const sem = new Semaphore(0);
    assert.throws(() => sem.release(0), RangeError);
    assert.throws(() => sem.release(-2), RangeError);
  });

  test("Semaphore.acquire() rejects a negative or NaN timeout with RangeError", async () => {
    const sem = new Semaphore(0);
    await assert.rejects(sem.acquire({ timeout: -5 }), RangeError);
    assert.throws(() => sem.acquireSync({ timeout: NaN }), RangeError);
  });

  test("BoundedSemaphore.release() throws InvalidStateError above its initial value", async () => {
    const sem = new BoundedSemaphore(2);
    assert.throws(() => sem.release(), InvalidStateError);
    await sem.acquire();
    assert.throws(() => sem.release(2), InvalidStateError);
    sem.release();
    assert.equal(sem.getValue(), 2);
    assert.ok(sem instanceof Semaphore);
  });

  test("Semaphore.acquire() returns false near its timeout", async () => {
    const sem = new Semaphore(0);
    let started = performance.now();
    assert.equal(await within(sem.acquire({ timeout: 40 }), LIMIT), false);
    assertTimedOut(started, 40);
    started = performance.now();
    assert.equal(sem.acquireSync({ timeout: 40 }), false);
    assertTimedOut(started, 40);
  });

  test("Semaphore.acquire() rejects with the signal reason", async () => {
    const sem = new Semaphore(0);
    const controller = new AbortController();
    const pending = sem.acquire({ signal: controller.signal });
    const reason = new Error("enough");
    setTimeout(() => controller.abort(reason), 5);
    await assert.rejects(within(pending, LIMIT), (e) => e === reason);
    await assert.rejects(sem.acquire({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
  });

  test("Semaphore.acquireSync() throws a TypeError naming the async form where blocking is not allowed", () => {
    withoutBlocking(() => {
      assert.throws(() => new Semaphore().acquireSync(), {
        name: "TypeError",
        message: /await semaphore\.acquire\(\)/,
      });
    });
  });

  test("Semaphore.hold() gives the slot back on dispose", async () => {
    const sem = new Semaphore(1);
    {
      using _ = await sem.hold();
      assert.equal(sem.getValue(), 0);
    }
    assert.equal(sem.getValue(), 1);
  });

  test("Semaphore(2) lets exactly 2 of 4 workers hold a slot at once", async () => {
    const sem = new Semaphore(2);
    const counters = new SharedArrayBuffer(8);
    const args: [Semaphore, SharedArrayBuffer, number] = [sem, counters, 50];
    await runAll(tasks.semaphoreHold, [args, args, args, args]);
    const c = new Int32Array(counters);
    assert.equal(c[1], 2);
    assert.equal(c[0], 0);
    assert.equal(sem.getValue(), 2);
  });

  test("Semaphore gives back the slot of a terminated holder and sets ownerDied", async () => {
    const sem = new Semaphore(1);
    const box = new Box();
    const p = new Process({ target: tasks.holdSlotForever, args: [sem, box] });
    p.start();
    await within(box.until(0), LIMIT, "worker taking a slot");
    assert.equal(sem.getValue(), 0);
    const waiting = sem.acquire({ timeout: LIMIT });
    p.terminate();
    assert.equal(await within(waiting, LIMIT), true);
    assert.equal(sem.ownerDied, true);
    sem.release();
    assert.equal(sem.ownerDied, false);
    assert.equal(sem.getValue(), 1);
    await within(p.join(), LIMIT);
  });

  test("Semaphore gets every slot back when several holders are terminated", async () => {
    const sem = new Semaphore(3);
    const boxes = [new Box(), new Box(), new Box()];
    const ps = boxes.map((box) => new Process({ target: tasks.holdSlotForever, args: [sem, box] }));
    for (const p of ps) p.start();
    for (const box of boxes) await within(box.until(0), LIMIT, "worker taking a slot");
    assert.equal(sem.getValue(), 0);
    for (const p of ps) p.terminate();
    for (let i = 0; i < 3; i++) assert.equal(await within(sem.acquire({ timeout: LIMIT }), LIMIT), true, `slot ${i}`);
    assert.equal(sem.ownerDied, true);
    assert.equal(sem.acquireSync({ blocking: false }), false, "no slot more than the three");
    sem.release(3);
    assert.equal(sem.getValue(), 3);
    await within(Promise.all(ps.map((p) => p.join())), LIMIT);
  });

  test("Semaphore.acquireSync() and holdSync() throw an already aborted signal's reason", () => {
    const sem = new Semaphore(0);
    const reason = new Error("no");
    assert.throws(() => sem.acquireSync({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    assert.throws(() => sem.holdSync({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    assert.equal(sem.getValue(), 0);
  });

  test("Semaphore.hold() and holdSync() throw TimeoutError when no slot frees in time", async () => {
    const sem = new Semaphore(0);
    await assert.rejects(sem.hold({ timeout: 10 }), TimeoutError);
    assert.throws(() => sem.holdSync({ timeout: 10 }), TimeoutError);
    assert.equal(sem.getValue(), 0);
  });
});

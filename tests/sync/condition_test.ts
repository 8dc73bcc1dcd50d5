import assert from "node:assert/strict";
import { describe } from "node:test";
import { InvalidStateError } from "../../errors.ts";
import { Process, taskModule } from "../../process/mod.ts";
import { Condition } from "../../sync/condition.ts";
import { Lock } from "../../sync/lock.ts";
import { RLock } from "../../sync/rlock.ts";
import { eventually, test, within } from "../_helpers.ts";
import { assertTimedOut, LIMIT, withoutBlocking } from "./_sync_helpers.ts";

const tasks = taskModule<typeof import("../testdata/sync_tasks.ts")>(
  new URL("../testdata/sync_tasks.ts", import.meta.url),
);

describe("Condition", () => {
  test("Condition() refuses a lock-like object from elsewhere with TypeError", () => {
    const fake = { acquire: () => Promise.resolve(true), release() {}, locked: () => false };
    assert.throws(() => new Condition(fake as unknown as Lock), {
      name: "TypeError",
      message: /Lock or RLock of @mproc\/multiprocessing/,
    });
    assert.doesNotThrow(() => new Condition(new RLock()));
    assert.doesNotThrow(() => new Condition());
  });

  test("Condition.wait() and notify() throw InvalidStateError without the lock", async () => {
    const cond = new Condition();
    await assert.rejects(cond.wait(10), InvalidStateError);
    assert.throws(() => cond.waitSync(10), InvalidStateError);
    assert.throws(() => cond.notify(), InvalidStateError);
    assert.throws(() => cond.notifyAll(), InvalidStateError);
  });

  test("Condition.wait() returns false near its timeout and holds the lock again", async () => {
    const cond = new Condition(new Lock());
    await cond.acquire();
    let started = performance.now();
    assert.equal(await within(cond.wait(40), LIMIT), false);
    assertTimedOut(started, 40);
    started = performance.now();
    assert.equal(cond.waitSync(40), false);
    assertTimedOut(started, 40);
    cond.release();
    await assert.rejects(cond.wait(-1), RangeError);
  });

  test("Condition.wait() keeps an RLock's depth across the wait", async () => {
    const lock = new RLock();
    const cond = new Condition(lock);
    await cond.acquire();
    await cond.acquire();
    assert.equal(await cond.wait(1), false);
    cond.release();
    assert.equal(lock.locked(), true);
    cond.release();
    assert.equal(lock.locked(), false);
  });

  test("Condition.notify(n) wakes n waiting tasks and notifyAll() the rest", async () => {
    // Tasks of one thread share an RLock's ownership, as threads' asyncio tasks do in
    // Python, so tasks that exclude each other use a Lock.
    const cond = new Condition(new Lock());
    let entered = 0;
    let woken = 0;
    const waiters = [0, 1, 2].map(async () => {
      using _ = await cond.hold();
      entered++;
      const ok = await cond.wait(LIMIT);
      woken++;
      return ok;
    });
    // wait() gives the lock up synchronously, so once all three have entered, all wait.
    await eventually(() => entered === 3, LIMIT, "three waiters");
    {
      using _ = await cond.hold();
      cond.notify(2);
    }
    await eventually(() => woken === 2, LIMIT, "two wake-ups");
    // A pause only to give a wrong third wake-up the chance to show.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(woken, 2);
    {
      using _ = await cond.hold();
      cond.notifyAll();
    }
    assert.deepEqual(await within(Promise.all(waiters), LIMIT), [true, true, true]);
  });

  test("Condition.waitFor() returns the predicate's value, false after its timeout", async () => {
    const cond = new Condition();
    using _ = await cond.hold();
    const started = performance.now();
    assert.equal(await cond.waitFor(() => 0, 30), 0);
    assertTimedOut(started, 30);
    assert.equal(await cond.waitFor(() => "ready"), "ready");
    assert.equal(cond.waitForSync(() => 7), 7);
  });

  test("Condition.waitSync() throws a TypeError naming the async form where blocking is not allowed", async () => {
    const cond = new Condition();
    using _ = await cond.hold();
    withoutBlocking(() => {
      assert.throws(() => cond.waitSync(), { name: "TypeError", message: /await condition\.wait\(\)/ });
      assert.throws(() => cond.waitForSync(() => false), TypeError);
    });
  });

  test("Condition passes items from 2 producer workers to a consumer on the main thread", async () => {
    const cond = new Condition();
    const ring = new SharedArrayBuffer(7 * 4);
    const r = new Int32Array(ring);
    const n = 300;
    const first = Array.from({ length: n }, (_, i) => i + 1);
    const second = Array.from({ length: n }, (_, i) => 1000 + i);
    const ps = [first, second].map((items) => new Process({ target: tasks.produce, args: [cond, ring, items] }));
    for (const p of ps) p.start();
    const got: number[] = [];
    await within(
      (async () => {
        while (got.length < 2 * n) {
          using _ = await cond.hold();
          assert.ok(await cond.waitFor(() => r[0] > 0, LIMIT), "an item arrived");
          got.push(r[3 + r[1]]);
          r[1] = (r[1] + 1) % 4;
          r[0]--;
          cond.notifyAll();
        }
      })(),
      LIMIT,
      "consuming",
    );
    await within(Promise.all(ps.map((p) => p.join())), LIMIT);
    for (const p of ps) assert.equal(p.exitCode, 0, p.error?.stack ?? "");
    assert.deepEqual(got.filter((x) => x < 1000), first);
    assert.deepEqual(got.filter((x) => x >= 1000), second);
  });

  test("Condition.wait() rejects with the signal's reason, holding the lock again", async () => {
    const cond = new Condition();
    await cond.acquire();
    const controller = new AbortController();
    const reason = new Error("stop waiting");
    const waiting = cond.wait(undefined, { signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(within(waiting, LIMIT), (e) => e === reason);
    // notify() throws unless this thread holds the lock: the rejected wait took it back.
    cond.notify();
    assert.equal(await within(cond.wait(20), LIMIT), false);
    await assert.rejects(
      cond.waitFor(() => false, undefined, { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    cond.release();
  });

  test("Condition.notify() rejects a negative or NaN count with RangeError", async () => {
    const cond = new Condition();
    using _ = await cond.hold();
    assert.throws(() => cond.notify(-1), RangeError);
    assert.throws(() => cond.notify(NaN), RangeError);
    assert.doesNotThrow(() => cond.notify(0));
  });

  test("Condition.acquireSync() throws an already aborted signal's reason", () => {
    const cond = new Condition();
    const reason = new Error("no");
    assert.throws(() => cond.acquireSync({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    assert.throws(() => cond.holdSync({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
  });

  test("Condition.waitFor() rejects with InvalidStateError when it must wait without the lock", async () => {
    const cond = new Condition();
    await assert.rejects(cond.waitFor(() => false, 10), InvalidStateError);
    assert.throws(() => cond.waitForSync(() => false, 10), InvalidStateError);
    // As in Python, a predicate already true needs no wait, so no lock either.
    assert.equal(await cond.waitFor(() => "now"), "now");
  });
});

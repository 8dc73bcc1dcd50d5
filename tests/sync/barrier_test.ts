import assert from "node:assert/strict";
import { describe } from "node:test";
import { BrokenBarrierError } from "../../errors.ts";
import { taskModule } from "../../process/mod.ts";
import { Barrier } from "../../sync/barrier.ts";
import { eventually, test, within } from "../_helpers.ts";
import { assertTimedOut, LIMIT, runAll, withoutBlocking } from "./_sync_helpers.ts";

const tasks = taskModule<typeof import("../testdata/sync_tasks.ts")>(
  new URL("../testdata/sync_tasks.ts", import.meta.url),
);

describe("Barrier", () => {
  test("Barrier rejects non-positive parties with RangeError and a bad action with TypeError", () => {
    assert.throws(() => new Barrier(0), RangeError);
    assert.throws(() => new Barrier(-3), RangeError);
    assert.throws(() => new Barrier(2.5), RangeError);
    assert.throws(() => new Barrier(2, { timeout: -1 }), RangeError);
    assert.throws(() => new Barrier(2, { action: (() => {}) as never }), TypeError);
    assert.equal(new Barrier(3).parties, 3);
  });

  test("Barrier.wait() returns each party's arrival index", async () => {
    const barrier = new Barrier(3);
    const first = barrier.wait(LIMIT);
    await eventually(() => barrier.nWaiting === 1, LIMIT, "first arrival");
    const rest = [barrier.wait(LIMIT), barrier.wait(LIMIT)];
    const indexes = await within(Promise.all([first, ...rest]), LIMIT);
    assert.deepEqual(indexes, [0, 1, 2]);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  test("Barrier.wait() breaks the barrier when its timeout passes", async () => {
    const barrier = new Barrier(2);
    const started = performance.now();
    await assert.rejects(within(barrier.wait(40), LIMIT), BrokenBarrierError);
    assertTimedOut(started, 40);
    assert.equal(barrier.broken, true);
    await assert.rejects(barrier.wait(), BrokenBarrierError);
    barrier.reset();
    assert.equal(barrier.broken, false);
    assert.throws(() => new Barrier(1).waitSync(-1), RangeError);
  });

  test("Barrier.abort() fails current waiters and reset() makes it usable again", async () => {
    const barrier = new Barrier(2);
    const waiting = barrier.wait(LIMIT);
    await eventually(() => barrier.nWaiting === 1, LIMIT, "one waiter");
    barrier.abort();
    await assert.rejects(within(waiting, LIMIT), BrokenBarrierError);
    assert.equal(barrier.broken, true);
    barrier.reset();
    const again = await within(Promise.all([barrier.wait(LIMIT), barrier.wait(LIMIT)]), LIMIT);
    assert.deepEqual(again.sort(), [0, 1]);
  });

  test("Barrier.reset() fails parties waiting at that moment", async () => {
    const barrier = new Barrier(2);
    const waiting = barrier.wait(LIMIT);
    await eventually(() => barrier.nWaiting === 1, LIMIT, "one waiter");
    barrier.reset();
    await assert.rejects(within(waiting, LIMIT), BrokenBarrierError);
    assert.equal(barrier.broken, false);
  });

  test("Barrier.waitSync() throws a TypeError naming the async form where blocking is not allowed", () => {
    withoutBlocking(() => {
      assert.throws(() => new Barrier(2).waitSync(), { name: "TypeError", message: /await barrier\.wait\(\)/ });
    });
  });

  test("Barrier of 4 workers is reused for 100 rounds", async () => {
    const barrier = new Barrier(4);
    const rounds = 100;
    const arrivals = new SharedArrayBuffer(rounds * 4);
    const args: [Barrier, SharedArrayBuffer, number] = [barrier, arrivals, rounds];
    await runAll(tasks.barrierRounds, [args, args, args, args]);
    assert.ok(new Int32Array(arrivals).every((n) => n === 4));
    assert.equal(barrier.broken, false);
  });

  test("Barrier runs its action once per round, in the last party to arrive", async () => {
    const barrier = new Barrier(3, { action: tasks.recordActionThread });
    const rounds = 8;
    // Word 0: action runs; 1…rounds: the action's thread per run; then the last party's per round.
    const words = new SharedArrayBuffer((1 + 2 * rounds) * 4);
    const args: [Barrier, SharedArrayBuffer, number] = [barrier, words, rounds];
    await runAll(tasks.barrierLastParty, [args, args, args]);
    const w = new Int32Array(words);
    assert.equal(w[0], rounds, "one action run per round");
    const actionThreads = Array.from(w.subarray(1, 1 + rounds));
    const lastParties = Array.from(w.subarray(1 + rounds, 1 + 2 * rounds));
    assert.ok(lastParties.every((ident) => ident > 1), `last parties ${lastParties}`);
    assert.deepEqual(actionThreads, lastParties, "each round's action ran in that round's last party");
  });

  test("Barrier.waitSync() runs a synchronous action once ready() has loaded it", async () => {
    const barrier = new Barrier(3, { action: tasks.countAction });
    const counter = new SharedArrayBuffer(4);
    const args: [Barrier, SharedArrayBuffer] = [barrier, counter];
    await runAll(tasks.barrierWithActionSync, [args, args, args]);
    assert.equal(new Int32Array(counter)[0], 1);
  });

  test("Barrier.waitSync() refuses to arrive last before its action is loaded, leaving the barrier whole", () => {
    const barrier = new Barrier(1, { action: tasks.countAction });
    assert.throws(() => barrier.waitSync(), { name: "TypeError", message: /await barrier\.ready\(\)/ });
    assert.equal(barrier.broken, false);
    assert.equal(barrier.nWaiting, 0);
  });

  test("Barrier.wait() rejects with the signal's reason and breaks the barrier for the others", async () => {
    const barrier = new Barrier(3);
    const controller = new AbortController();
    const reason = new Error("giving up");
    const other = barrier.wait();
    const mine = barrier.wait(undefined, { signal: controller.signal });
    await eventually(() => barrier.nWaiting === 2, LIMIT, "two parties waiting");
    controller.abort(reason);
    await assert.rejects(within(mine, LIMIT), (e) => e === reason);
    await assert.rejects(within(other, LIMIT), BrokenBarrierError);
    assert.equal(barrier.broken, true);
  });

  test("Barrier action that throws breaks the barrier: the last party gets its error, the others BrokenBarrierError", async () => {
    const barrier = new Barrier(2, { action: tasks.failAction });
    const first = barrier.wait(LIMIT);
    await eventually(() => barrier.nWaiting === 1, LIMIT, "first arrival");
    const last = barrier.wait(LIMIT);
    await assert.rejects(within(last, LIMIT), (e: Error) => e instanceof RangeError && /action failed/.test(e.message));
    await assert.rejects(within(first, LIMIT), BrokenBarrierError);
    assert.equal(barrier.broken, true);
  });

  test("Barrier's own timeout applies to wait() and waitSync() called without one", async () => {
    const barrier = new Barrier(2, { timeout: 40 });
    let started = performance.now();
    await assert.rejects(within(barrier.wait(), LIMIT), BrokenBarrierError);
    assertTimedOut(started, 40);
    barrier.reset();
    started = performance.now();
    assert.throws(() => barrier.waitSync(), BrokenBarrierError);
    assertTimedOut(started, 40);
    barrier.reset();
    // A timeout given to the call wins over the barrier's own.
    started = performance.now();
    await assert.rejects(within(barrier.wait(5), LIMIT), BrokenBarrierError);
    assert.ok(performance.now() - started < 40 + 1000);
  });

  test("Barrier.ready() resolves at once without an action, and rejects for an action its module lacks", async () => {
    await within(new Barrier(2).ready(), LIMIT);
    const missing = new Barrier(2, { action: { module: tasks.countAction.module, name: "noSuchAction" } as never });
    await assert.rejects(
      within(missing.ready(), LIMIT),
      (e: Error) => e instanceof TypeError && /noSuchAction/.test(e.message),
    );
  });
});

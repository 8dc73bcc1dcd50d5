import assert from "node:assert/strict";
import { describe } from "node:test";
import { CancelledError, InvalidStateError } from "../../errors.ts";
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
import { after, test, within } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;

describe("asCompleted and wait", () => {
  const executor = new ProcessPoolExecutor({ maxWorkers: 2 });
  after(() => executor.shutdown({ cancelFutures: true }));

  test("asCompleted() yields a future given twice only once", async () => {
    const a = executor.submit(tasks.square, 2);
    const b = executor.submit(tasks.square, 3);
    const seen: unknown[] = [];
    await within(
      (async () => {
        for await (const future of asCompleted([a, b, a, a, b], { timeout: LIMIT })) seen.push(future);
      })(),
      LIMIT,
    );
    assert.equal(seen.length, 2);
    assert.deepEqual(new Set(seen), new Set([a, b]));
  });

  test("wait() counts a future given twice once", async () => {
    const a = executor.submit(tasks.square, 4);
    const { done, notDone } = await within(wait([a, a]), LIMIT);
    assert.deepEqual([...done], [a]);
    assert.equal(notDone.size, 0);
  });
});

const N = 10_000;

/** A future that counts how often anyone asks whether it is done. */
class CountingFuture extends Future<number> {
  static asked = 0;
  override done(): boolean {
    CountingFuture.asked++;
    return super.done();
  }
}

function futures(n: number): CountingFuture[] {
  return Array.from({ length: n }, () => new CountingFuture());
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("waiting on many futures", () => {
  test("wait() on 10,000 futures does linear work", { timeout: 20_000 }, async () => {
    for (const returnWhen of [ALL_COMPLETED, FIRST_EXCEPTION] as const) {
      const all = futures(N);
      CountingFuture.asked = 0;
      const waiting = wait(all, { returnWhen });
      all.forEach((future, i) => future.setResult(i));
      const { done, notDone } = await waiting;
      assert.equal(done.size, N);
      assert.equal(notDone.size, 0);
      assert.ok(CountingFuture.asked <= 3 * N, `${returnWhen}: done() asked ${CountingFuture.asked} times for ${N}`);
    }
  });

  test("wait() leaves nothing behind on the futures it did not wait for", { timeout: 20_000 }, async () => {
    const all = futures(N);
    all[0].setResult(0);
    const { done, notDone } = await wait(all, { returnWhen: FIRST_COMPLETED });
    assert.equal(done.size, 1);
    assert.equal(notDone.size, N - 1);
    const second = await wait(all.slice(1), { timeout: 1 });
    assert.equal(second.notDone.size, N - 1);
    CountingFuture.asked = 0;
    all.forEach((future, i) => i > 0 && future.setResult(i));
    await tick();
    assert.equal(CountingFuture.asked, 0, "a finished wait still watched the futures");
  });

  test("asCompleted() yields 10,000 futures once each, in completion order", { timeout: 20_000 }, async () => {
    const all = futures(N);
    CountingFuture.asked = 0;
    const order: Future<number>[] = [];
    const iterating = (async () => {
      for await (const future of asCompleted(all)) order.push(future as Future<number>);
    })();
    for (let i = N - 1; i >= 0; i--) all[i].setResult(i);
    await iterating;
    assert.equal(order.length, N);
    assert.equal(order[0], all[N - 1]);
    assert.equal(order[N - 1], all[0]);
    assert.ok(CountingFuture.asked <= 2 * N, `done() asked ${CountingFuture.asked} times for ${N}`);
  });

  test("asCompleted() left early yields nothing more", { timeout: 20_000 }, async () => {
    const all = futures(3);
    all[1].setResult(1);
    const iterator = asCompleted(all);
    assert.equal((await iterator.next()).value, all[1]);
    await iterator.return!();
    all[0].setResult(0);
    all[2].setResult(2);
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  });
});

describe("Future", () => {
  test("Future.setResult() and setException() throw InvalidStateError once the future is done", async () => {
    const future = new Future<number>();
    assert.equal(future.done(), false);
    future.setResult(1);
    assert.throws(() => future.setResult(2), InvalidStateError);
    assert.throws(() => future.setException(new Error("late")), InvalidStateError);
    assert.equal(await future.result(0), 1);
    const failed = new Future<number>();
    const error = new RangeError("bad");
    failed.setException(error);
    assert.throws(() => failed.setResult(3), InvalidStateError);
    assert.equal(await failed.exception(0), error);
    await assert.rejects(failed.result(0), (e) => e === error);
  });

  test("Future.cancel() is true for a pending or cancelled future, false once it ran or while it runs", async () => {
    const pending = new Future<number>();
    assert.equal(pending.cancel(), true);
    assert.equal(pending.cancel(), true, "true again: it already was cancelled");
    await assert.rejects(pending.result(0), CancelledError);
    assert.throws(() => pending.setResult(1), InvalidStateError);
    const finished = new Future<number>();
    finished.setResult(1);
    assert.equal(finished.cancel(), false);
    assert.equal(finished.cancelled(), false);
    const running = new Future<number>({ running: () => true });
    assert.equal(running.running(), true);
    assert.equal(running.cancel(), false);
    const refused = new Future<number>({ cancel: () => false });
    assert.equal(refused.cancel(), false);
    assert.equal(refused.done(), false);
  });

  test("Future.addDoneCallback() refuses a non-function and calls each callback once, in order", async () => {
    const future = new Future<string>();
    assert.throws(() => future.addDoneCallback("nope" as never), TypeError);
    const calls: string[] = [];
    const both = new Promise<void>((resolve) => {
      future.addDoneCallback(() => calls.push("first"));
      future.addDoneCallback(() => {
        calls.push("second");
        resolve();
      });
    });
    future.setResult("x");
    await within(both, LIMIT);
    assert.deepEqual(calls, ["first", "second"]);
  });

  test("Future.toString() names its state, like Python's repr", () => {
    assert.equal(String(new Future()), "<Future state=pending>");
    assert.equal(String(new Future({ running: () => true })), "<Future state=running>");
    const done = new Future<number>();
    done.setResult(1);
    assert.equal(String(done), "<Future state=finished>");
    const cancelled = new Future();
    cancelled.cancel();
    assert.equal(String(cancelled), "<Future state=cancelled>");
  });

  test("asCompleted() yields the futures already done first, then the others as they finish", async () => {
    const later = new Future<string>();
    const already = new Future<string>();
    already.setResult("already");
    const it = asCompleted([later, already], { timeout: LIMIT });
    const first = await within(it.next(), LIMIT);
    assert.equal(first.value, already);
    const second = it.next();
    later.setResult("later");
    assert.equal((await within(second, LIMIT)).value, later);
    assert.equal((await within(it.next(), LIMIT)).done, true);
  });

  test("wait() with a timeout of 0 returns at once, and rejects a bad timeout", async () => {
    const pending = new Future<number>();
    const { done, notDone } = await within(wait([pending], { timeout: 0 }), LIMIT);
    assert.equal(done.size, 0);
    assert.deepEqual([...notDone], [pending]);
    await assert.rejects(wait([pending], { timeout: -1 }), RangeError);
  });
});

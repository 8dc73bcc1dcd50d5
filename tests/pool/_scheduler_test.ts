import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { callSignal } from "../../_internal/call_signal.ts";
import { encode } from "../../_internal/shareable.ts";
import { BrokenProcessPoolError, ProcessError, WorkerDiedError } from "../../errors.ts";
import { CALL } from "../../pool/_protocol.ts";
import { Scheduler, type SchedulerOptions } from "../../pool/_scheduler.ts";
import type { TaskRef } from "../../task.ts";
import { eventually, within } from "../_helpers.ts";
import { fakeSpawner, settleMicrotasks } from "./_fake_workers.ts";

const ref = { module: "file:///fake.ts", name: "echo" } as TaskRef;

function scheduler(processes: number, more: Partial<SchedulerOptions> = {}) {
  const { workers, spawn } = fakeSpawner();
  const s = new Scheduler({
    processes,
    initializer: null,
    initargs: encode([], "initargs"),
    maxTasksPerChild: undefined,
    workerName: "FakeWorker",
    owner: "pool",
    breakOnDeath: false,
    spawn,
    ...more,
  });
  return { s, workers };
}

/** Submit a call of `echo(x)`; resolves or rejects with its outcome. */
function call(s: Scheduler, x: unknown, signal?: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    s.submit(
      ref,
      CALL,
      { value: [x] },
      (failed, value) => failed ? reject(value) : resolve(value),
      callSignal(undefined, signal, "run echo"),
    );
  });
}

describe("Scheduler (with stand-in workers)", () => {
  test("jobs queued in one tick go to a worker in one message", { timeout: 5_000 }, async () => {
    const { s, workers } = scheduler(1);
    const results = [call(s, 1), call(s, 2)];
    await settleMicrotasks();
    const [w] = workers;
    assert.equal(w.posted.length, 1);
    assert.deepEqual(w.jobs().map((job) => job.payload), [[1], [2]]);
    w.answer(w.jobs(), (job) => (job.payload as number[])[0] * 10);
    assert.deepEqual(await Promise.all(results), [10, 20]);
    await s.terminate((name) => new Error(name));
  });

  test(
    "a result for another job than the one due fails that call and replaces the worker",
    { timeout: 5_000 },
    async () => {
      const { s, workers } = scheduler(1);
      const first = call(s, "a");
      const second = call(s, "b");
      first.catch(() => {});
      await settleMicrotasks();
      const [w] = workers;
      const [a, b] = w.jobs();
      // The worker answers a job id it was never given where `a` is due.
      w.send({ t: "done", results: [a.id + 1000, 0, "stray"], ms: 0 });
      await assert.rejects(within(first, 2_000, "the mismatched call"), (error: unknown) => {
        assert.ok(error instanceof ProcessError);
        assert.match((error as Error).message, /answered job/);
        return true;
      });
      assert.equal(w.stoppedWith !== null, true, "the confused worker is stopped");
      await settleMicrotasks();
      assert.equal(workers.length, 2, "a replacement was started");
      const [again] = workers[1].jobs();
      assert.equal(again.id, b.id, "the other job is sent again, to the new worker");
      workers[1].answer([again]);
      assert.deepEqual(await within(second, 2_000, "the other call"), ["b"]);
      await s.terminate((name) => new Error(name));
    },
  );

  test("a job with a signal runs alone: nothing is posted behind it", { timeout: 5_000 }, async () => {
    const { s, workers } = scheduler(1);
    const controller = new AbortController();
    const guarded = call(s, "s", controller.signal);
    guarded.catch(() => {});
    const plain = [call(s, 1), call(s, 2)];
    await settleMicrotasks();
    const [w] = workers;
    assert.deepEqual(w.jobs().map((job) => job.payload), [["s"]]);
    // Aborted before the worker began it, it is taken back: no abort message, and the
    // plain jobs go to the same worker, each once.
    controller.abort(new Error("stop"));
    await assert.rejects(guarded, /stop/);
    await settleMicrotasks();
    assert.equal(workers.length, 1);
    assert.equal(w.posted.filter((message) => message.t === "abort").length, 0);
    const next = w.jobs().slice(1);
    assert.deepEqual(next.map((job) => job.payload), [[1], [2]]);
    w.answer(next);
    assert.deepEqual(await Promise.all(plain), [[1], [2]]);
    await s.terminate((name) => new Error(name));
  });

  test("aborting a running job tells its worker; it keeps the worker when it ends within the grace", {
    timeout: 5_000,
  }, async () => {
    const { s, workers } = scheduler(1, { abortGrace: 60_000 });
    const controller = new AbortController();
    const guarded = call(s, "s", controller.signal);
    guarded.catch(() => {});
    await settleMicrotasks();
    const [w] = workers;
    w.claimAll();
    const plain = call(s, 1);
    controller.abort(new Error("stop"));
    await assert.rejects(guarded, /stop/);
    const abort = w.posted.find((message) => message.t === "abort");
    assert.deepEqual(abort && { t: abort.t, id: abort.id, message: abort.reason.message }, {
      t: "abort",
      id: w.jobs()[0].id,
      message: "stop",
    });
    await settleMicrotasks();
    assert.equal(w.jobs().length, 1, "nothing is posted behind the aborted job until it ends");
    w.answer(w.jobs(), () => "late");
    await settleMicrotasks();
    const next = w.jobs().slice(1);
    assert.deepEqual(next.map((job) => job.payload), [[1]]);
    w.answer(next);
    assert.deepEqual(await plain, [1]);
    assert.equal(w.stoppedWith, null, "the worker was kept");
    await s.terminate((name) => new Error(name));
  });

  test("a running job that ignores its abort past the grace has its worker stopped and replaced", {
    timeout: 5_000,
  }, async () => {
    const { s, workers } = scheduler(1, { abortGrace: 5 });
    const controller = new AbortController();
    const guarded = call(s, "s", controller.signal);
    guarded.catch(() => {});
    await settleMicrotasks();
    workers[0].claimAll();
    const plain = call(s, 1);
    controller.abort(new Error("stop"));
    await assert.rejects(guarded, /stop/);
    // Still booting: the grace waits for the worker to be ready.
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(workers[0].stoppedWith, null, "a booting worker keeps its grace");
    workers[0].send({ t: "ready" });
    await eventually(() => workers.length === 2, 2_000, "a replacement worker");
    assert.notEqual(workers[0].stoppedWith, null);
    const next = workers[1].jobs();
    assert.deepEqual(next.map((job) => job.payload), [[1]]);
    workers[1].answer(next);
    assert.deepEqual(await plain, [1]);
    await s.terminate((name) => new Error(name));
  });

  test("a broken pool fails each pending job with its own error, caused by the death", { timeout: 5_000 }, async () => {
    const { s, workers } = scheduler(1, { owner: "executor", breakOnDeath: true });
    const pending = [call(s, 1), call(s, 2), call(s, 3)];
    for (const p of pending) p.catch(() => {});
    await settleMicrotasks();
    workers[0].send({ t: "ready" });
    workers[0].exit(3);
    const errors = await Promise.all(pending.map((p) => p.then(() => null, (error) => error)));
    assert.equal(new Set(errors).size, 3, "three distinct error objects");
    for (const error of errors) {
      assert.ok(error instanceof BrokenProcessPoolError);
      assert.ok(error.cause instanceof WorkerDiedError);
      assert.equal(error.cause.exitCode, 3);
    }
    assert.ok(s.broken instanceof BrokenProcessPoolError);
    await s.terminate((name) => new Error(name));
  });
});

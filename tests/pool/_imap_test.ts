import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openInput } from "../../_internal/map_input.ts";
import { encode } from "../../_internal/shareable.ts";
import { Imap } from "../../pool/_imap.ts";
import { Scheduler } from "../../pool/_scheduler.ts";
import type { TaskRef } from "../../task.ts";
import { within } from "../_helpers.ts";
import { fakeSpawner, settleMicrotasks } from "./_fake_workers.ts";

const ref = { module: "file:///fake.ts", name: "echo" } as TaskRef;

function setUp(items: Iterable<unknown>, options: { chunksize?: number; ordered?: boolean; ahead?: number } = {}) {
  const { workers, spawn } = fakeSpawner();
  const scheduler = new Scheduler({
    processes: 1,
    initializer: null,
    initargs: encode([], "initargs"),
    maxTasksPerChild: undefined,
    workerName: "FakeWorker",
    owner: "pool",
    breakOnDeath: false,
    spawn,
  });
  const imap = new Imap<unknown>({
    scheduler,
    ref,
    spread: false,
    input: openInput(items, "run imap"),
    chunksize: options.chunksize ?? 1,
    ordered: options.ordered ?? true,
    ahead: options.ahead ?? 100,
    call: undefined,
    what: "run imap",
    progress: undefined,
  });
  return { scheduler, workers, imap };
}

describe("Imap (with stand-in workers)", () => {
  test("Imap yields in input order when results arrive out of order", { timeout: 5_000 }, async () => {
    const { scheduler, workers, imap } = setUp([1, 2], { ahead: 2 });
    await settleMicrotasks();
    const [a, b] = workers[0].jobs();
    workers[0].send({ t: "done", results: [a.id, 0, "one"], ms: 0 });
    const first = imap.next();
    workers[0].send({ t: "done", results: [b.id, 0, "two"], ms: 0 });
    assert.deepEqual(await first, { done: false, value: "one" });
    assert.deepEqual(await imap.next(), { done: false, value: "two" });
    assert.deepEqual(await imap.next(), { done: true, value: undefined });
    await scheduler.terminate((name) => new Error(name));
  });

  test("Imap keeps at most `ahead` jobs submitted and unconsumed", { timeout: 5_000 }, async () => {
    const { scheduler, imap } = setUp([1, 2, 3, 4, 5, 6], { ahead: 2 });
    await settleMicrotasks();
    assert.equal(scheduler.pending, 2);
    await imap.return();
    await scheduler.terminate((name) => new Error(name));
  });

  test(
    "Imap reads more input only once half its window is free, then fills it at once",
    { timeout: 5_000 },
    async () => {
      let pulled = 0;
      function* input() {
        for (let i = 0; i < 100; i++) {
          pulled++;
          yield i;
        }
      }
      const { scheduler, workers, imap } = setUp(input(), { ahead: 10 });
      await settleMicrotasks();
      assert.equal(pulled, 10);
      assert.equal(scheduler.pending, 10);
      let answered = 0;
      for (let k = 1; k <= 20; k++) {
        const posted = workers[0].jobs();
        workers[0].answer(posted.slice(answered));
        answered = posted.length;
        // A chunksize-1 job's payload is the item itself, which the stand-in echoes.
        assert.deepEqual(await within(imap.next(), 2_000), { done: false, value: k - 1 });
        // Jobs go out in batches of half the window, so the workers get few large messages.
        assert.equal(pulled, 10 + 5 * Math.floor(k / 5), `after ${k} results`);
        await settleMicrotasks();
      }
      await imap.return();
      await scheduler.terminate((name) => new Error(name));
    },
  );

  test("leaving an Imap early withdraws the jobs no worker has taken", { timeout: 5_000 }, async () => {
    const { scheduler, workers, imap } = setUp(Array.from({ length: 50 }, (_, i) => i), { ordered: false });
    await settleMicrotasks();
    const w = workers[0];
    const posted = w.jobs();
    assert.ok(posted.length < 50, "the worker holds a window, not the whole input");
    w.answer([posted[0]]);
    for await (const value of imap) {
      assert.equal(value, 0);
      break;
    }
    const sent = w.jobs();
    assert.equal(scheduler.pending, sent.length - 1, "only the jobs the worker holds are left");
    w.answer(sent.slice(1));
    await settleMicrotasks();
    assert.equal(w.jobs().length, sent.length, "nothing more was sent after the break");
    assert.equal(scheduler.pending, 0);
    await within(scheduler.terminate((name) => new Error(name)), 2_000);
  });
});

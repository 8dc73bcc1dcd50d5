// Queues of the process context, served by the process that made them.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe } from "node:test";
import { getContext } from "../../context.ts";
import { EmptyError, FullError, InvalidStateError } from "../../errors.ts";
import { ProcessJoinableQueue, ProcessQueue } from "../../ipc/mod.ts";
import { taskModule } from "../../process/mod.ts";
import { eventually, pidAlive, test, within } from "../_helpers.ts";
import { runProgram } from "../_run_program.ts";
import { values } from "../testdata/os_queue_tasks.ts";

const tasks = taskModule<typeof import("../testdata/os_queue_tasks.ts")>(
  new URL("../testdata/os_queue_tasks.ts", import.meta.url),
);
const PROCESS = getContext("process");
const LIMIT = 40_000;

function start(target: unknown, args: unknown[]) {
  const p = new PROCESS.Process({ target: target as never, args: args as never });
  p.start();
  return p;
}

describe("process-context queues", () => {
  test("an OS child's stream arrives whole and in order", { timeout: LIMIT }, async () => {
    const N = 5000;
    const queue = await PROCESS.Queue<number>();
    assert.ok(queue instanceof ProcessQueue);
    const p = start(tasks.putRange, [queue, 0, N]);
    const got: number[] = [];
    for (let i = 0; i < N; i++) got.push(await within(queue.get(), LIMIT, `item ${i}`));
    await within(p.join(), LIMIT, "join");
    assert.equal(p.exitCode, 0);
    assert.deepEqual(got, Array.from({ length: N }, (_, i) => i));
    await assert.rejects(queue.getNowait(), EmptyError);
  });

  test("a worker thread of the maker's process puts and gets over the socket too", { timeout: LIMIT }, async () => {
    const queue = await PROCESS.Queue<number>();
    const out = await PROCESS.Queue<number[]>();
    const thread = new (getContext("thread").Process)({
      target: tasks.putRange as never,
      args: [queue, 0, 200] as never,
    });
    thread.start();
    const got: number[] = [];
    for (let i = 0; i < 200; i++) got.push(await within(queue.get(), LIMIT, `item ${i}`));
    await within(thread.join(), LIMIT, "join");
    assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
    for (let i = 0; i < 50; i++) await queue.put(i);
    const taker = new (getContext("thread").Process)({ target: tasks.takeN as never, args: [queue, 50, out] as never });
    taker.start();
    assert.deepEqual(await within(out.get(), LIMIT, "list"), Array.from({ length: 50 }, (_, i) => i));
    await within(taker.join(), LIMIT, "join");
    assert.equal(taker.exitCode, 0);
  });

  test("items the parent puts reach an OS child in order", { timeout: LIMIT }, async () => {
    const N = 300;
    const queue = await PROCESS.Queue<number>();
    const out = await PROCESS.SimpleQueue<number[]>();
    for (let i = 0; i < N; i++) await queue.put(i);
    const p = start(tasks.takeN, [queue, N, out]);
    assert.deepEqual(await within(out.get(), LIMIT, "list"), Array.from({ length: N }, (_, i) => i));
    await within(p.join(), LIMIT, "join");
    assert.equal(await queue.qsize(), 0);
  });

  test("two OS producers and two OS consumers pass every item exactly once", { timeout: LIMIT }, async () => {
    const PER = 400;
    const queue = await PROCESS.Queue<number>();
    const out = await PROCESS.Queue<number[]>();
    const consumers = [start(tasks.drain, [queue, out]), start(tasks.drain, [queue, out])];
    const producers = [start(tasks.putRange, [queue, 0, PER]), start(tasks.putRange, [queue, PER, PER])];
    await within(Promise.all(producers.map((p) => p.join())), LIMIT, "producers");
    // An OS producer's puts are in the queue once it has ended: closing now loses none.
    await queue.close();
    const taken = [await within(out.get(), LIMIT, "list 1"), await within(out.get(), LIMIT, "list 2")];
    await within(Promise.all(consumers.map((p) => p.join())), LIMIT, "consumers");
    const all = taken.flat();
    for (const list of taken) {
      // FIFO per producer: each producer's items come out in the order put.
      const a = list.filter((x) => x < PER);
      const b = list.filter((x) => x >= PER);
      assert.deepEqual(a, [...a].sort((x, y) => x - y));
      assert.deepEqual(b, [...b].sort((x, y) => x - y));
    }
    assert.deepEqual(all.sort((x, y) => x - y), Array.from({ length: 2 * PER }, (_, i) => i));
  });

  test("values of every kind cross both ways, and a put copies its item", { timeout: LIMIT }, async () => {
    const queue = await PROCESS.Queue<unknown>();
    const back = await PROCESS.Queue<unknown>();
    const mine = new Uint8Array([1, 2, 3]);
    await queue.put(mine);
    mine[0] = 9;
    assert.deepEqual(await queue.get(), new Uint8Array([1, 2, 3]));
    for (const v of values()) await queue.put(v);
    for (const v of values()) assert.deepEqual(await queue.get(), v);
    const p = start(tasks.putValues, [queue, back]);
    for (const v of values()) assert.deepEqual(await within(queue.get(), LIMIT, "from the child"), v);
    for (const v of values()) await back.put(v);
    for (const v of values()) assert.deepEqual(await within(queue.get(), LIMIT, "round trip"), v);
    await within(p.join(), LIMIT, "join");
    assert.equal(p.exitCode, 0);
  });

  test("maxsize holds a put back until a get makes room (in the maker)", async () => {
    const queue = await PROCESS.Queue<number>({ maxsize: 2 });
    await queue.put(1);
    await queue.put(2);
    assert.equal(await queue.full(), true);
    assert.equal(queue.fullSync(), true);
    let done = 0;
    const third = queue.put(3).then(() => done++);
    await assert.rejects(queue.putNowait(9), (e: Error) => e instanceof FullError && e.value === 9);
    await assert.rejects(
      queue.put(9, { timeout: 20 }),
      (e: Error) => e instanceof FullError && /20 ms/.test(e.message),
    );
    assert.equal(await queue.qsize(), 2);
    assert.equal(done, 0, "the third put waits while the queue is full");
    assert.equal(await queue.get(), 1);
    await third;
    assert.equal(done, 1);
    assert.deepEqual([await queue.get(), await queue.get()], [2, 3]);
    assert.equal(await queue.empty(), true);
  });

  test("maxsize holds an OS producer back: it never runs more than maxsize ahead", { timeout: LIMIT }, async () => {
    const MAX = 3;
    const N = 12;
    const queue = await PROCESS.Queue<number>({ maxsize: MAX });
    const progress = await PROCESS.Queue<number>();
    const p = start(tasks.putReporting, [queue, N, progress]);
    let reported = 0;
    for (let taken = 0; taken < N; taken++) {
      // Wait until the producer filled the queue (or finished), then check it went no further.
      while (reported < Math.min(taken + MAX, N)) {
        assert.equal(await within(progress.get(), LIMIT, "progress"), reported++);
      }
      assert.equal(await queue.qsize(), Math.min(MAX, N - taken));
      await assert.rejects(progress.getNowait(), EmptyError, "no put returned beyond maxsize");
      assert.equal(await queue.get(), taken);
    }
    await within(p.join(), LIMIT, "join");
    assert.equal(p.exitCode, 0);
  });

  test("get timeout and getNowait raise EmptyError, in the maker and in an OS child", { timeout: LIMIT }, async () => {
    const queue = await PROCESS.Queue<string>();
    await assert.rejects(queue.getNowait(), (e: Error) => e instanceof EmptyError && /is empty/.test(e.message));
    await assert.rejects(queue.get({ timeout: 30 }), (e: Error) => e instanceof EmptyError && /30 ms/.test(e.message));
    await assert.rejects(queue.get({ block: false }), EmptyError);
    await assert.rejects(queue.get({ timeout: -1 }), RangeError);
    const out = await PROCESS.Queue<string>();
    const p = start(tasks.timedGet, [queue, out]);
    assert.match(await within(out.get(), LIMIT, "report"), /^EmptyError: .*50 ms/);
    await within(p.join(), LIMIT, "join");
  });

  test("an aborted get takes no item, in the maker and in an OS child", { timeout: LIMIT }, async () => {
    const queue = await PROCESS.Queue<string>();
    const controller = new AbortController();
    const pending = queue.get({ signal: controller.signal });
    controller.abort(new Error("stop"));
    await assert.rejects(pending, /stop/);
    await assert.rejects(queue.get({ signal: controller.signal }), /stop/);
    await queue.put("kept");
    assert.equal(await queue.get(), "kept");
    const out = await PROCESS.Queue<string>();
    const p = start(tasks.abortedGet, [queue, out]);
    await queue.put("x");
    const report = await within(out.get(), LIMIT, "report");
    await within(p.join(), LIMIT, "join");
    if (report === "aborted") assert.equal(await queue.get({ timeout: LIMIT }), "x");
    else assert.equal(report, "got x");
    await assert.rejects(queue.getNowait(), EmptyError, "the item was taken exactly once");
  });

  test("a SIGKILLed producer leaves what it sent, and a bounded get times out instead of hanging", {
    timeout: LIMIT,
  }, async () => {
    const queue = await PROCESS.Queue<number>();
    const pid = await PROCESS.Queue<number>();
    const p = start(tasks.putForever, [queue, pid]);
    const child = await within(pid.get(), LIMIT, "pid");
    for (let i = 0; i < 100; i++) assert.equal(await within(queue.get(), LIMIT, "item"), i);
    process.kill(child, "SIGKILL");
    await within(p.join(), LIMIT, "join");
    await eventually(() => !pidAlive(child), 10_000, "end of the child");
    let next = 100;
    for (;;) {
      try {
        assert.equal(await queue.get({ timeout: 200 }), next++);
      } catch (error) {
        assert.ok(error instanceof EmptyError, String(error));
        break;
      }
    }
    await queue.put(-1);
    assert.equal(await queue.get(), -1, "the queue still works");
  });

  test("a queue the maker closed refuses puts and drains gets with clear errors", { timeout: LIMIT }, async () => {
    const queue = await PROCESS.Queue<number>();
    await queue.put(1);
    const waiting = await PROCESS.Queue<number>();
    const blocked = waiting.get();
    await queue.close();
    await waiting.close();
    await queue.close();
    assert.equal(await queue.closed(), true);
    await assert.rejects(blocked, (e: Error) => e instanceof InvalidStateError && /closed and empty/.test(e.message));
    await assert.rejects(queue.put(2), (e: Error) => e instanceof InvalidStateError && /closed/.test(e.message));
    assert.equal(await queue.get(), 1);
    await assert.rejects(
      queue.get(),
      (e: Error) => e instanceof InvalidStateError && /closed and empty/.test(e.message),
    );
    const out = await PROCESS.Queue<number[]>();
    const p = start(tasks.drain, [queue, out]);
    assert.deepEqual(await within(out.get(), LIMIT, "drained"), []);
    await within(p.join(), LIMIT, "join");
  });

  test("when the maker's process ends, a pending get and later calls elsewhere fail saying so", {
    timeout: LIMIT,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "mproc-orphan-queue-"));
    try {
      const maker = runProgram(new URL("../testdata/os_queue_maker.ts", import.meta.url), LIMIT, [dir]);
      await eventually(() => existsSync(join(dir, "queue.json")), LIMIT, "the maker's queue");
      const orphan = await runProgram(new URL("../testdata/os_queue_orphan.ts", import.meta.url), LIMIT, [dir]);
      assert.equal((await maker).code, 0);
      assert.equal(orphan.timedOut, false);
      const lines = orphan.stdout.trim().split("\n");
      assert.equal(lines[0], "got 41", orphan.stderr);
      assert.equal(lines.length, 4, orphan.stdout);
      for (const line of lines.slice(1)) {
        assert.match(
          line,
          /^InvalidStateError: Cannot (get|put) an item (from|in) the queue: the process that made it has ended/,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("JoinableQueue: join returns once OS children marked every item done", { timeout: LIMIT }, async () => {
    const jobs = await PROCESS.JoinableQueue<number>();
    assert.ok(jobs instanceof ProcessJoinableQueue);
    await jobs.join();
    for (let i = 0; i < 6; i++) await jobs.put(i);
    let joined = false;
    const join = jobs.join().then(() => joined = true);
    const controller = new AbortController();
    const aborted = jobs.join({ signal: controller.signal });
    controller.abort(new Error("enough"));
    await assert.rejects(aborted, /enough/);
    const workers = [start(tasks.doJobs, [jobs, 3]), start(tasks.doJobs, [jobs, 3])];
    await within(join, LIMIT, "join");
    assert.equal(joined, true);
    await within(Promise.all(workers.map((p) => p.join())), LIMIT, "workers");
    assert.deepEqual(workers.map((p) => p.exitCode), [0, 0]);
    await assert.rejects(jobs.taskDone(), (e: Error) => e instanceof InvalidStateError && /more times/.test(e.message));
    jobs.joinSync();
  });

  test("Sync twins work in the maker's thread when they need not wait, and name the async form otherwise", {
    timeout: LIMIT,
  }, async () => {
    const queue = await PROCESS.Queue<number>({ maxsize: 1 });
    queue.putSync(1);
    assert.throws(() => queue.putSync(2, { block: false }), FullError);
    assert.throws(
      () => queue.putSync(2),
      (e: Error) => e instanceof TypeError && /await queue\.put\(\)/.test(e.message),
    );
    assert.equal(queue.qsizeSync(), 1);
    assert.equal(queue.getSync(), 1);
    assert.equal(queue.emptySync(), true);
    assert.throws(() => queue.getSync({ block: false }), EmptyError);
    assert.throws(
      () => queue.getSync(),
      (e: Error) => e instanceof TypeError && /await queue\.get\(\)/.test(e.message),
    );
    const out = await PROCESS.Queue<string>();
    const p = start(tasks.syncTwins, [queue, out]);
    assert.match(await within(out.get(), LIMIT, "getSync"), /^TypeError: .*await queue\.get\(\)/);
    assert.match(await within(out.get(), LIMIT, "qsizeSync"), /^TypeError: .*await queue\.qsize\(\)/);
    await within(p.join(), LIMIT, "join");
    queue.closeSync();
    assert.throws(() => queue.getSync(), InvalidStateError);
  });
});

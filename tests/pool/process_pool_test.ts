// Pool and ProcessPoolExecutor with the "process" start method: workers are OS processes.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe } from "node:test";
import { getContext } from "../../context.ts";
import { BrokenProcessPoolError, InvalidStateError, WorkerDiedError } from "../../errors.ts";
import { Manager } from "../../ipc/mod.ts";
import { asCompleted, Pool, ProcessPoolExecutor } from "../../pool/mod.ts";
import { taskModule } from "../../process/mod.ts";
import { Lock } from "../../sync/mod.ts";
import { after, eventually, pidAlive, test, within } from "../_helpers.ts";

const os = taskModule<typeof import("../testdata/os_tasks.ts")>(new URL("../testdata/os_tasks.ts", import.meta.url));
const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 40_000;
const PROCESS = getContext("process");
const dir = mkdtempSync(join(tmpdir(), "mproc-pool-os-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("Pool with the process start method", () => {
  test("Pool runs apply and map in OS worker processes", { timeout: LIMIT }, async () => {
    await using pool = new PROCESS.Pool({ processes: 2 });
    assert.ok(pool instanceof Pool);
    const pid = await within(pool.apply(os.osPid), LIMIT, "apply");
    assert.notEqual(pid, process.pid);
    const squares = await within(pool.map(tasks.square, Array.from({ length: 200 }, (_, i) => i)), LIMIT, "map");
    assert.deepEqual(squares, Array.from({ length: 200 }, (_, i) => i * i));
    const sums = await within(pool.starmap(tasks.add, [[1, 2], [3, 4]], { chunksize: 2 }), LIMIT, "starmap");
    assert.deepEqual(sums, [3, 7]);
    const seen: number[] = [];
    for await (const x of pool.imap(tasks.square, [1, 2, 3])) seen.push(x);
    assert.deepEqual(seen, [1, 4, 9]);
    await assert.rejects(
      pool.apply(os.throwFrom, ["bad"]),
      (e: Error) => e instanceof TypeError && /bad/.test(e.message),
    );
  });

  test("Pool replaces an OS worker that aborts or is killed from outside; the task fails with WorkerDiedError", {
    timeout: LIMIT,
  }, async () => {
    await using pool = new Pool({ processes: 1, context: PROCESS });
    const first = await within(pool.apply(os.osPid), LIMIT, "apply");
    await assert.rejects(within(pool.apply(os.abortNow), LIMIT, "abort"), (e: Error) => {
      assert.ok(e instanceof WorkerDiedError, `got ${e}`);
      assert.equal(e.exitCode, -6);
      return true;
    });
    const second = await within(pool.apply(os.osPid), LIMIT, "apply after abort");
    assert.notEqual(second, first, "a new worker process took over");
    const file = join(dir, "hang");
    const hung = pool.apply(os.hangWithPid, [file]);
    await eventually(() => existsSync(file), LIMIT, "hanging task start");
    process.kill(Number(readFileSync(file, "utf8")), "SIGKILL");
    await assert.rejects(within(hung, LIMIT, "killed task"), (e: Error) => {
      assert.ok(e instanceof WorkerDiedError, `got ${e}`);
      assert.equal(e.exitCode, -9);
      return true;
    });
    assert.equal(await within(pool.apply(tasks.square, [9]), LIMIT, "apply after kill"), 81);
  });

  test("Pool offers its async, unordered and lifecycle methods with OS workers, as with threads", {
    timeout: LIMIT,
  }, async () => {
    const pool = new PROCESS.Pool({ processes: 2, maxTasksPerChild: 3 });
    const called: number[] = [];
    const one = pool.applyAsync(tasks.add, [2, 3], { callback: (v) => called.push(v) });
    assert.equal(await within(one.get(), LIMIT, "applyAsync"), 5);
    assert.ok(one.ready() && one.successful());
    assert.deepEqual(await within(pool.mapAsync(tasks.square, [1, 2, 3]).get(), LIMIT, "mapAsync"), [1, 4, 9]);
    assert.deepEqual(await within(pool.starmapAsync(tasks.add, [[1, 1], [2, 2]]).get(), LIMIT, "starmapAsync"), [2, 4]);
    const unordered: number[] = [];
    for await (const x of pool.imapUnordered(tasks.square, [1, 2, 3, 4, 5, 6])) unordered.push(x);
    assert.deepEqual(unordered.sort((a, b) => a - b), [1, 4, 9, 16, 25, 36]);
    const pids = new Set(await within(pool.map(os.osPid, Array.from({ length: 12 }, () => 0 as never)), LIMIT, "pids"));
    assert.ok(pids.size >= 2, "maxTasksPerChild replaced OS workers");
    await assert.rejects(
      pool.apply(tasks.sleepy, [5_000, "late"], { timeout: 50 }),
      (e: Error) => e.name === "TimeoutError",
    );
    assert.equal(await within(pool.apply(tasks.square, [5]), LIMIT, "apply after a timeout"), 25);
    assert.deepEqual(called, [5]);
    pool.close();
    await assert.rejects(pool.apply(tasks.square, [1]), InvalidStateError);
    await within(pool.join(), LIMIT, "join");
  });

  test("Pool with maxHeapMiB: a task that runs its OS worker out of memory fails, the other worker runs on", {
    timeout: LIMIT,
  }, async () => {
    await using pool = new PROCESS.Pool({ processes: 2, maxHeapMiB: 64 });
    const [started, release] = [join(dir, "oom-started"), join(dir, "oom-release")];
    const other = pool.apply(os.pidWhenReleased, [started, release]);
    // The file exists a moment before its pid is written in it.
    await eventually(
      () => existsSync(started) && readFileSync(started, "utf8") !== "",
      LIMIT,
      "the other worker's task start",
    );
    const otherPid = Number(readFileSync(started, "utf8"));
    await assert.rejects(within(pool.apply(os.allocateForever), LIMIT, "allocation"), (e: Error) => {
      if (e instanceof WorkerDiedError) return true;
      // JavaScriptCore has no heap bound: Bun's worker gets an address-space limit, and an
      // allocation past it may fail as an error the task could catch, as Python's MemoryError.
      assert.ok(process.versions.bun !== undefined && e instanceof RangeError, `got ${e}`);
      console.log(`# Bun: the allocation failed with "${e.message}" in the task; its worker lives on`);
      return true;
    });
    assert.equal(pidAlive(otherPid), true, "the other worker process still runs");
    writeFileSync(release, "");
    assert.equal(await within(other, LIMIT, "the other worker's task"), otherPid);
    assert.equal(await within(pool.apply(tasks.square, [7]), LIMIT, "apply after the crash"), 49);
  });

  test("Pool refuses maxHeapMiB for worker threads and when it is not a positive integer", { timeout: LIMIT }, () => {
    assert.throws(
      () => new Pool({ processes: 1, context: getContext("thread"), maxHeapMiB: 64 }),
      (e: Error) => e instanceof TypeError && /maxHeapMiB/.test(e.message) && /getContext\("process"\)/.test(e.message),
    );
    assert.throws(
      () => new ProcessPoolExecutor({ maxWorkers: 1, context: PROCESS, maxHeapMiB: 0.5 }),
      (e: Error) => e instanceof RangeError && /maxHeapMiB/.test(e.message),
    );
  });

  test("Pool refuses shared-memory arguments for OS workers, naming them", { timeout: LIMIT }, async () => {
    const lock = new Lock();
    assert.throws(
      () => new Pool({ processes: 1, context: PROCESS, initargs: [lock] }),
      (e: Error) => e instanceof TypeError && /initargs\[0\]/.test(e.message) && /Lock/.test(e.message),
    );
    await using pool = new PROCESS.Pool({ processes: 1 });
    await assert.rejects(
      pool.apply(os.report, ["x", { lock } as never]),
      (e: Error) =>
        e instanceof TypeError && /args\[1\]\.lock/.test(e.message) && /getContext\("thread"\)/.test(e.message),
    );
    await assert.rejects(
      pool.map(tasks.identity, [1, new Int32Array(new SharedArrayBuffer(4))]),
      (e: Error) => e instanceof TypeError && /iterable\[1\].*SharedArrayBuffer/.test(e.message),
    );
    assert.equal(await within(pool.apply(tasks.square, [3]), LIMIT, "apply"), 9, "the pool still works");
  });

  test("Pool.terminate() leaves no OS worker process behind", { timeout: LIMIT }, async () => {
    const pool = new Pool({ processes: 1, context: PROCESS });
    const pid = await within(pool.apply(os.osPid), LIMIT, "apply");
    assert.equal(pidAlive(pid), true);
    await within(pool.terminate(), LIMIT, "terminate");
    await eventually(() => !pidAlive(pid), 10_000, `end of worker process ${pid}`);
  });

  test(
    "Pool hands OS workers a manager proxy through initargs; task args may not hold one",
    { timeout: LIMIT },
    async () => {
      await using manager = await Manager.start({ address: { host: "127.0.0.1", port: 0 } });
      const counts = await manager.dict<string, number>();
      await using pool = new PROCESS.Pool({ processes: 2, initializer: os.keep, initargs: [counts] });
      await within(pool.map(os.recordPid, ["a", "b", "c"]), LIMIT, "map");
      const pids = await Promise.all(["a", "b", "c"].map((k) => counts.get(k)));
      for (const pid of pids) assert.ok(typeof pid === "number" && pid !== process.pid, `worker pid ${pid}`);
      await assert.rejects(
        pool.apply(os.keep, [counts]),
        (e: Error) => e instanceof TypeError && /initargs/.test(e.message),
      );
    },
  );

  test("Pool rejects a context that is not one", { timeout: LIMIT }, () => {
    assert.throws(() => new Pool({ context: { startMethod: "fork" } as never }), /context must be/);
  });
});

describe("ProcessPoolExecutor with the process start method", () => {
  test("ProcessPoolExecutor runs futures in OS workers and breaks when one dies", { timeout: LIMIT }, async () => {
    await using executor = new PROCESS.ProcessPoolExecutor({ maxWorkers: 1 });
    assert.ok(executor instanceof ProcessPoolExecutor);
    assert.equal(await within(executor.submit(tasks.add, 2, 3).result(), LIMIT, "submit"), 5);
    const results: number[] = [];
    for await (const x of executor.map(tasks.square, [4, 5])) results.push(x);
    assert.deepEqual(results, [16, 25]);
    const sums: number[] = [];
    for await (const x of executor.starmap(tasks.add, [[1, 2], [3, 4]])) sums.push(x);
    assert.deepEqual(sums, [3, 7]);
    const futures = [executor.submit(tasks.sleepy, 30, "b"), executor.submit(tasks.sleepy, 0, "a")];
    const done: string[] = [];
    for await (const f of asCompleted(futures)) done.push(await f.result());
    assert.deepEqual(done.sort(), ["a", "b"]);
    await assert.rejects(within(executor.submit(os.abortNow).result(), LIMIT, "abort"), BrokenProcessPoolError);
    assert.throws(() => executor.submit(tasks.square, 2), BrokenProcessPoolError);
  });
});

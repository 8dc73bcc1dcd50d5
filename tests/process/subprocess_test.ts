// The "process" start method: a Process in an OS child process running the same runtime.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe } from "node:test";
import { InvalidStateError } from "../../errors.ts";
import { Manager } from "../../ipc/mod.ts";
import { activeChildren, Process, taskModule } from "../../process/mod.ts";
import { Lock } from "../../sync/mod.ts";
import { after, eventually, pidAlive, test, within } from "../_helpers.ts";
import { runProgram } from "../_run_program.ts";

const tasks = taskModule<typeof import("../testdata/os_tasks.ts")>(new URL("../testdata/os_tasks.ts", import.meta.url));
const LIMIT = 30_000;
const dir = mkdtempSync(join(tmpdir(), "mproc-subprocess-"));
let files = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

function scratch(): string {
  return join(dir, `f${++files}`);
}

function read(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, "utf8"));
}

function osProcess<F extends (...args: never[]) => unknown>(
  target: import("../../task.ts").TaskRef<F>,
  args: Parameters<F>,
  daemon = false,
): Process<F> {
  return new Process({ target, args, daemon, startMethod: "process" });
}

/** Start `p`, whose target writes `file` once it runs, and wait for that. */
async function started(p: Process, file: string): Promise<void> {
  p.start();
  await eventually(() => existsSync(file), LIMIT, `start of ${p.name}`);
}

describe("Process with the process start method", () => {
  test("Process runs the target in an OS child with a pid of its own and exits 0", { timeout: LIMIT }, async () => {
    const file = scratch();
    const p = osProcess(tasks.report, [file, { n: [1, 2n], m: new Map([[1, "a"]]) }], true);
    p.start();
    assert.equal(p.startMethod, "process");
    assert.ok(Number.isInteger(p.pid) && p.pid !== process.pid, `pid ${p.pid}`);
    assert.equal(p.ident, p.pid);
    await within(p.join(), LIMIT, "join");
    assert.equal(p.exitCode, 0);
    assert.equal(p.error, null);
    const seen = read(file);
    assert.equal(seen.osPid, p.pid);
    assert.equal(seen.pid, p.pid, "currentProcess().pid in the child is its OS pid");
    assert.equal(seen.ident, p.pid);
    assert.equal(seen.name, p.name);
    assert.equal(seen.daemon, true);
    assert.deepEqual(seen.parent, { name: "MainProcess", pid: 1, alive: true });
    assert.deepEqual(seen.extra, { n: [1, "2n"], m: { map: [[1, "a"]] } }, "a bigint and a Map crossed as such");
  });

  test("Process.exitCode is -15 after terminate() and -9 after kill() of an OS child", { timeout: LIMIT }, async () => {
    const a = scratch();
    const b = scratch();
    const p = osProcess(tasks.runForever, [a]);
    const q = osProcess(tasks.runForever, [b]);
    await Promise.all([started(p, a), started(q, b)]);
    assert.equal(p.isAlive(), true);
    assert.ok(activeChildren().includes(p));
    p.terminate();
    q.kill();
    await within(Promise.all([p.join(), q.join()]), LIMIT, "join");
    assert.equal(p.exitCode, -15);
    assert.equal(q.exitCode, -9);
    assert.equal(pidAlive(p.pid!), false);
    assert.ok(!activeChildren().includes(p));
  });

  test("Process.exitCode is -N for an OS child ended by signal N from outside or by process.abort()", {
    timeout: LIMIT,
  }, async () => {
    const a = scratch();
    const b = scratch();
    const c = scratch();
    const p = osProcess(tasks.runForever, [a]);
    const q = osProcess(tasks.runForever, [b]);
    const r = osProcess(tasks.abort, [c]);
    await Promise.all([started(p, a), started(q, b)]);
    process.kill(p.pid!, "SIGKILL");
    process.kill(q.pid!, "SIGHUP");
    r.start();
    await within(Promise.all([p.join(), q.join(), r.join()]), LIMIT, "join");
    assert.equal(p.exitCode, -9);
    assert.equal(q.exitCode, -1);
    assert.equal(r.exitCode, -6, "SIGABRT ends only the child");
  });

  test("an OS child ends once the work its target left behind is done, with the exit code it set", {
    timeout: LIMIT,
  }, async () => {
    const file = scratch();
    const p = osProcess(tasks.leaveWork, [file, 3]);
    p.start();
    await within(p.join(), LIMIT, "join");
    assert.equal(p.exitCode, 3);
    assert.equal(readFileSync(file, "utf8"), "timer beforeExit");
  });

  test("Process keeps an OS child's uncaught error with its stack, and exit(N)", { timeout: LIMIT }, async () => {
    const p = osProcess(tasks.throwFrom, ["bad input"]);
    const q = new Process({
      target: new URL("../testdata/tasks.ts", import.meta.url),
      fn: "exitWith",
      args: [7],
      startMethod: "process",
    });
    p.start();
    q.start();
    await within(Promise.all([p.join(), q.join()]), LIMIT, "join");
    assert.equal(p.exitCode, 1);
    assert.ok(p.error instanceof TypeError, `got ${p.error}`);
    assert.equal(p.error.message, "bad input");
    assert.match(p.error.stack ?? "", /throwFrom/);
    assert.match(p.error.stack ?? "", /os_tasks\.ts/);
    assert.equal(q.exitCode, 7);
    assert.equal(q.error, null);
  });

  test("Process.join() of an OS child returns after its timeout and rejects with the signal's reason", {
    timeout: LIMIT,
  }, async () => {
    const file = scratch();
    const p = osProcess(tasks.runForever, [file]);
    await started(p, file);
    await p.join(20);
    assert.equal(p.isAlive(), true, "a timed-out join leaves the child running");
    const reason = new Error("stop waiting");
    const controller = new AbortController();
    const waiting = p.join(undefined, { signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(waiting, (e) => e === reason);
    assert.equal(p.isAlive(), true);
    p.kill();
    await within(p.join(), LIMIT, "join");
    assert.equal(p.exitCode, -9);
    p.close();
    assert.throws(() => p.isAlive(), InvalidStateError);
  });

  test("Process refuses shared-memory arguments for an OS child, naming them", { timeout: LIMIT }, () => {
    const lock = new Lock();
    const p = osProcess(tasks.report, ["x", { lock } as never]);
    assert.throws(
      () => p.start(),
      (e: Error) =>
        e instanceof TypeError && /args\[1\]\.lock/.test(e.message) && /Lock/.test(e.message)
        && /getContext\("thread"\)/.test(e.message),
    );
    assert.equal(p.pid, null, "nothing was started");
    const q = osProcess(tasks.report, ["x", [new Int32Array(new SharedArrayBuffer(8))] as never]);
    assert.throws(() => q.start(), /args\[1\]\[0\].*SharedArrayBuffer/);
    const r = osProcess(tasks.report, ["x", { cb: () => 1 } as never]);
    assert.throws(() => r.start(), /args\[1\]\.cb.*another process.*function/);
  });
});

describe("Process maxHeapMiB", () => {
  test("Process with maxHeapMiB: an OS child that runs out of memory ends alone, by a signal or its own error", {
    timeout: LIMIT,
  }, async () => {
    const p = new Process({ target: tasks.allocateForever, startMethod: "process", maxHeapMiB: 64 });
    p.start();
    await within(p.join(), LIMIT, "the child's end");
    if (process.versions.bun !== undefined && p.exitCode === 1) {
      // JavaScriptCore has no heap bound: past Bun's address-space limit the allocation
      // may throw, as Python's MemoryError would.
      assert.ok(p.error instanceof RangeError, `got ${p.error}`);
      console.log(`# Bun: the child's allocation threw "${(p.error as Error).message}"`);
    } else assert.ok(p.exitCode !== null && p.exitCode < 0, `exit code ${p.exitCode}: killed by a signal`);
  });

  test("Process refuses maxHeapMiB for a worker thread, and one that is not a positive integer", () => {
    const p = new Process({ target: tasks.osPid, startMethod: "thread", maxHeapMiB: 64 });
    assert.throws(
      () => p.start(),
      (e: Error) => e instanceof TypeError && /maxHeapMiB/.test(e.message) && /getContext\("process"\)/.test(e.message),
    );
    assert.throws(
      () => new Process({ target: tasks.osPid, startMethod: "process", maxHeapMiB: -1 }),
      (e: Error) => e instanceof RangeError && /maxHeapMiB/.test(e.message),
    );
  });
});

describe("Manager proxies in OS children", () => {
  test("a Manager dict and lock served over TCP are shared by 4 OS processes, with exact totals", {
    timeout: LIMIT,
  }, async () => {
    await using manager = await Manager.start({ address: { host: "127.0.0.1", port: 0 } });
    const counts = await manager.dict<string, number>();
    const lock = await manager.Lock();
    const children = Array.from({ length: 4 }, () => osProcess(tasks.countUnder, [counts, lock, 25] as never));
    for (const p of children) p.start();
    await within(Promise.all(children.map((p) => p.join())), LIMIT, "join");
    assert.deepEqual(children.map((p) => [p.exitCode, p.error]), children.map(() => [0, null]));
    assert.equal(await counts.get("total"), 100);
    for (const p of children) assert.equal(await counts.get(`pid${p.pid}`), 25, "each child counted under its own pid");
  });

  test("Process refuses a proxy of a manager that serves threads only, saying how to serve processes", {
    timeout: LIMIT,
  }, async () => {
    await using manager = await Manager.start();
    const counts = await manager.dict();
    const p = osProcess(tasks.report, ["x", { counts } as never]);
    assert.throws(
      () => p.start(),
      (e: Error) => e instanceof TypeError && /args\[1\]\.counts/.test(e.message) && /address/.test(e.message),
    );
  });
});

describe("program exit with OS children", () => {
  const program = new URL("../testdata/os_main.ts", import.meta.url);

  test("the program waits for a non-daemon OS child and stops a daemon one", { timeout: LIMIT }, async () => {
    const ready = scratch();
    const { code, stdout, timedOut } = await runProgram(program, LIMIT, ["return", ready]);
    assert.equal(timedOut, false);
    assert.equal(code, 0);
    const [pids, last] = stdout.trim().split("\n");
    assert.equal(last, "non-daemon child done");
    const { daemon } = JSON.parse(pids) as { daemon: number };
    await eventually(() => !pidAlive(daemon), 10_000, `end of daemon child ${daemon}`);
  });

  test("no OS child outlives a parent that ends by an uncaught error", { timeout: LIMIT }, async () => {
    const ready = scratch();
    const { code, stdout, timedOut } = await runProgram(program, LIMIT, ["crash", ready]);
    assert.equal(timedOut, false);
    assert.notEqual(code, 0);
    const { daemon, other } = JSON.parse(stdout.trim().split("\n")[0]) as { daemon: number; other: number };
    await eventually(() => !pidAlive(daemon) && !pidAlive(other), 10_000, `end of children ${daemon}, ${other}`);
  });
});

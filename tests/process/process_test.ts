import assert from "node:assert/strict";
import { describe } from "node:test";
import { isAlive } from "../../_internal/shared_area.ts";
import { FullError, InvalidStateError, RemoteError, TimeoutError, WorkerDiedError } from "../../errors.ts";
import { activeChildren, currentProcess, Process, taskModule } from "../../process/mod.ts";
import { eventually, test, within } from "../_helpers.ts";
import { runProgram } from "../_run_program.ts";
import { Box } from "../testdata/box.ts";

const TASKS = new URL("../testdata/tasks.ts", import.meta.url);
const tasks = taskModule<typeof import("../testdata/tasks.ts")>(TASKS);
const LIMIT = 30_000;

async function run(p: Process): Promise<Process> {
  p.start();
  await within(p.join(), LIMIT, `join of ${p.name}`);
  return p;
}

describe("Process", () => {
  test("Process runs the target with its arguments and exits 0", async () => {
    const box = new Box();
    const p = await run(new Process({ target: tasks.work, args: [box, 21], name: "w1" }));
    assert.equal(p.exitCode, 0);
    assert.equal(p.error, null);
    assert.deepEqual(box.read(), { result: 42 });
    assert.equal(p.isAlive(), false);
    assert.equal(p.name, "w1");
  });

  test("Process awaits an async target", async () => {
    const box = new Box();
    const p = await run(new Process({ target: tasks.asyncWork, args: [box, 1] }));
    assert.equal(p.exitCode, 0);
    assert.deepEqual(box.read(), { result: 2 });
  });

  test("Process runs the default export when given a module URL and no fn", async () => {
    const box = new Box();
    const p = await run(new Process({ target: TASKS, args: [box] }));
    assert.equal(p.exitCode, 0);
    assert.equal(box.read(), "default export ran");
  });

  test("Process runs a named export given as a module URL plus fn", async () => {
    const box = new Box();
    const p = await run(new Process({ target: TASKS.href, fn: "work", args: [box, 5] }));
    assert.equal(p.exitCode, 0);
    assert.deepEqual(box.read(), { result: 10 });
  });

  test(
    "Process args holding one object twice arrive as one object with a live shareable",
    { timeout: 20_000 },
    async () => {
      const box = new Box();
      const o = { box };
      const p = await run(new Process({ target: tasks.sameTwice, args: [o, o, box] }));
      assert.equal(p.exitCode, 0);
      assert.deepEqual(box.read(), { same: true, live: true, oneBox: true });
    },
  );

  test("Process.exitCode is N after exit(N) in the child", async () => {
    const p = await run(new Process({ target: tasks.exitWith, args: [7] }));
    assert.equal(p.exitCode, 7);
    assert.equal(p.error, null);
  });

  test("Process.exitCode is 1 and error keeps the child's error after an uncaught throw", async () => {
    const p = await run(new Process({ target: tasks.fail, args: ["bad input"] }));
    assert.equal(p.exitCode, 1);
    assert.ok(p.error instanceof RangeError);
    assert.equal(p.error.message, "bad input");
    assert.match(p.error.stack ?? "", /fail/);
    assert.match((p.error as Error & { remoteStack?: string }).remoteStack ?? "", /tasks\.ts/);
  });

  test("Process.error is a RemoteError when the child's error class is its own", async () => {
    const p = await run(new Process({ target: tasks.failCustom }));
    assert.equal(p.exitCode, 1);
    assert.ok(p.error instanceof RemoteError);
    assert.equal(p.error.remoteName, "CustomError");
    assert.equal(p.error.message, "custom failure");
    assert.match(p.error.remoteStack ?? "", /failCustom/);
  });

  test(
    "Process.error keeps a DOMException TimeoutError apart from the package's TimeoutError",
    { timeout: 20_000 },
    async () => {
      const p = await run(new Process({ target: tasks.failTimeout }));
      assert.equal(p.exitCode, 1);
      assert.ok(p.error instanceof DOMException, `got ${p.error?.constructor.name}`);
      assert.equal(p.error.name, "TimeoutError");
      assert.ok(!(p.error instanceof TimeoutError));
    },
  );

  test("Process.error rebuilds the package's errors with their fields and cause", { timeout: 20_000 }, async () => {
    const p = await run(new Process({ target: tasks.failWorkerDied }));
    assert.equal(p.exitCode, 1);
    assert.ok(p.error instanceof WorkerDiedError, `got ${p.error?.constructor.name}`);
    assert.equal(p.error.exitCode, -9);
    assert.equal(p.error.ident, 42);
    assert.ok(p.error.cause instanceof FullError);
    assert.equal(p.error.cause.value, "unsent");
  });

  test("Process.exitCode is 1 after an error thrown later in a timer", async () => {
    const p = await run(new Process({ target: tasks.failLater, args: ["late"] }));
    assert.equal(p.exitCode, 1);
    assert.equal(p.error?.message, "late");
  });

  test("Process.terminate() stops a blocked child with exit code -15", async () => {
    const box = new Box();
    const p = new Process({ target: tasks.block, args: [box] });
    p.start();
    await box.until(0);
    assert.equal(p.isAlive(), true);
    const ident = p.ident!;
    assert.equal(isAlive(ident), true);
    p.terminate();
    assert.equal(isAlive(ident), false, "the liveness table shows the death at once");
    await within(p.join(), LIMIT);
    assert.equal(p.exitCode, -15);
    assert.equal(p.isAlive(), false);
  });

  test("Process.kill() stops a busy child with exit code -9", async () => {
    const box = new Box();
    const p = new Process({ target: tasks.wait, args: [box] });
    p.start();
    await box.until(0);
    p.kill();
    await within(p.join(), LIMIT);
    assert.equal(p.exitCode, -9);
  });

  test("Process.join(timeout) returns after the timeout while the child runs", async () => {
    const box = new Box();
    const p = new Process({ target: tasks.block, args: [box] });
    p.start();
    await box.until(0);
    const started = Date.now();
    await p.join(30);
    assert.ok(Date.now() - started >= 25);
    assert.equal(p.exitCode, null);
    assert.equal(p.isAlive(), true);
    box.raise(1);
    await within(p.join(), LIMIT);
    assert.equal(p.exitCode, 0);
  });

  test("Process.join() rejects with the signal's reason and leaves the process running", async () => {
    const box = new Box();
    const p = new Process({ target: tasks.block, args: [box] });
    p.start();
    await box.until(0);
    const controller = new AbortController();
    const reason = new Error("stop waiting");
    const joined = p.join(undefined, { signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(joined, (e) => e === reason);
    assert.equal(p.isAlive(), true);
    await assert.rejects(p.join(undefined, { signal: AbortSignal.abort(reason) }), (e) => e === reason);
    box.raise(1);
    await within(p.join(), LIMIT);
    assert.equal(p.exitCode, 0);
  });

  test("Process.start() twice throws InvalidStateError", async () => {
    const p = new Process({ target: tasks.exitWith, args: [0] });
    p.start();
    assert.throws(() => p.start(), (e: Error) => e instanceof InvalidStateError && /already started/.test(e.message));
    await within(p.join(), LIMIT);
  });

  test("Process.join() before start() throws InvalidStateError", async () => {
    const p = new Process({ target: tasks.work });
    await assert.rejects(p.join(), (e: Error) => e instanceof InvalidStateError && /not started/.test(e.message));
  });

  test("Process.join() rejects a negative or NaN timeout with RangeError", async () => {
    const p = await run(new Process({ target: tasks.exitWith, args: [0] }));
    await assert.rejects(p.join(-1), RangeError);
    await assert.rejects(p.join(NaN), RangeError);
  });

  test("Process.start() rejects a function argument with a TypeError naming its path", () => {
    const p = new Process({ target: tasks.work, args: [1, { cb: () => 1 }] as never });
    assert.throws(() => p.start(), (e: Error) => e instanceof TypeError && e.message.includes("args[1].cb"));
    assert.equal(p.isAlive(), false);
  });

  test("Process.start() rejects a class instance that would lose its methods", () => {
    class Point {
      constructor(readonly x: number) {}
      norm() {
        return Math.abs(this.x);
      }
    }
    const p = new Process({ target: tasks.work, args: [[new Point(1)]] as never });
    assert.throws(
      () => p.start(),
      (e: Error) => e instanceof TypeError && /args\[0\]\[0\].*class Point/.test(e.message),
    );
  });

  test("Process with a missing export exits 1 and says which export", async () => {
    const p = await run(new Process({ target: TASKS, fn: "noSuchTask" }));
    assert.equal(p.exitCode, 1);
    assert.ok(p.error instanceof TypeError);
    assert.match(p.error.message, /"noSuchTask"/);
    assert.match(p.error.message, /"work"/, "the message lists the exports that do exist");
  });

  test("Process with a missing module exits 1 and says which module", async () => {
    const missing = new URL("../testdata/no_such_module.ts", import.meta.url);
    const p = await run(new Process({ target: missing, fn: "x" }));
    assert.equal(p.exitCode, 1);
    assert.match(p.error?.message ?? "", /no_such_module\.ts/);
  });

  test("Process rejects a target that is neither a task nor a URL", () => {
    assert.throws(() => new Process({ target: 42 as never }), TypeError);
    assert.throws(() => new Process({ target: "relative.ts" }), /absolute URL/);
  });

  test("Process passes shareable objects nested in arrays and objects as live objects", async () => {
    const a = new Box();
    const b = new Box();
    const p = await run(new Process({ target: tasks.nested, args: [[{ box: a }], { a: { b } }] }));
    assert.equal(p.exitCode, 0);
    assert.equal(a.read(), "from nested array");
    assert.equal(Atomics.load(b.flags, 3), 7);
  });

  test("Process names children like Python and gives them currentProcess and parentProcess", async () => {
    const box = new Box();
    const p = await run(new Process({ target: tasks.whoAmI, args: [box], daemon: true }));
    const seen = box.read() as { name: string; ident: number; daemon: boolean; parent: unknown };
    assert.match(p.name, /^Process-\d+$/);
    assert.equal(seen.name, p.name);
    assert.equal(seen.ident, p.ident);
    assert.equal(seen.daemon, true);
    assert.deepEqual(seen.parent, { name: "MainProcess", ident: 1, alive: true });
  });

  test("Process started in a child is a grandchild named Process-N:1", async () => {
    const box = new Box();
    const inner = new Box();
    const p = await run(new Process({ target: tasks.spawnGrandchild, args: [box, inner] }));
    assert.equal(p.exitCode, 0);
    const outer = box.read() as { me: string; childExit: number; childIdent: number };
    const grand = inner.read() as { name: string; ident: number; parent: { name: string; ident: number } };
    assert.equal(outer.childExit, 0);
    assert.equal(grand.name, `${p.name}:1`);
    assert.equal(grand.ident, outer.childIdent);
    assert.deepEqual({ name: grand.parent.name, ident: grand.parent.ident }, { name: p.name, ident: p.ident });
  });

  test("Process waits for non-daemon children and stops daemon children when its target returns", async () => {
    const box = new Box();
    const gate = new Box();
    const p = new Process({ target: tasks.leaveChildren, args: [box, gate] });
    p.start();
    await box.until(0);
    const { daemon, nonDaemon, active } = box.read() as { daemon: number; nonDaemon: number; active: number };
    assert.equal(active, 2);
    await gate.until(0); // the non-daemon grandchild is running and waits for flag 1
    await p.join(50);
    assert.equal(p.isAlive(), true, "the child still waits for its non-daemon child");
    gate.raise(1);
    await within(p.join(), LIMIT);
    assert.equal(p.exitCode, 0);
    assert.equal(isAlive(nonDaemon), false);
    assert.equal(isAlive(daemon), false, "the daemon grandchild ended with its parent");
  });

  test("activeChildren() lists running children only", async () => {
    const box = new Box();
    const p = new Process({ target: tasks.block, args: [box] });
    p.start();
    await box.until(0);
    assert.ok(activeChildren().includes(p));
    box.raise(1);
    await within(p.join(), LIMIT);
    await eventually(() => !activeChildren().includes(p), 5_000, "removal from activeChildren");
  });

  test("Process.daemon cannot change after start() and close() refuses a running process", async () => {
    const box = new Box();
    const p = new Process({ target: tasks.block, args: [box] });
    p.start();
    assert.throws(() => (p.daemon = true), InvalidStateError);
    assert.throws(() => p.close(), InvalidStateError);
    p.terminate();
    await within(p.join(), LIMIT);
    p.close();
    assert.throws(() => p.start(), InvalidStateError);
  });

  test(
    "Process methods throw InvalidStateError after close(), as Python raises ValueError",
    { timeout: 20_000 },
    async () => {
      const p = await run(new Process({ target: tasks.exitWith, args: [0] }));
      p.close();
      p.close();
      for (
        const [what, call] of Object.entries({
          isAlive: () => p.isAlive(),
          terminate: () => p.terminate(),
          kill: () => p.kill(),
          start: () => p.start(),
        })
      ) {
        assert.throws(
          call,
          (e: Error) => e instanceof InvalidStateError && /process object is closed/.test(e.message),
          what,
        );
      }
      await assert.rejects(
        p.join(),
        (e: Error) => e instanceof InvalidStateError && /process object is closed/.test(e.message),
      );
      assert.equal(p.exitCode, 0, "the exit code stays readable");
      assert.match(String(p), /closed/);
      assert.ok(!activeChildren().includes(p));
    },
  );

  test(
    "currentProcess().exitCode is null in the main thread, as Python's exitcode is None",
    { timeout: 20_000 },
    () => {
      assert.equal(currentProcess().exitCode, null);
    },
  );

  test("Process supports await using and terminates on dispose", async () => {
    const box = new Box();
    let p: Process;
    {
      await using q = new Process({ target: tasks.block, args: [box] });
      p = q;
      q.start();
      await box.until(0);
    }
    assert.equal(p.exitCode, -15);
  });
});

describe("Process, documented behaviour", () => {
  test("Process.pid is the ident: null before start(), the child's own ident after", async () => {
    const box = new Box();
    const p = new Process({ target: tasks.reportIds, args: [box] });
    assert.equal(p.pid, null);
    assert.equal(p.ident, null);
    await run(p);
    assert.equal(p.exitCode, 0);
    assert.ok(Number.isInteger(p.pid) && p.pid! > 1, `pid ${p.pid}`);
    assert.equal(p.pid, p.ident);
    assert.deepEqual(box.read(), { pid: p.pid, ident: p.ident });
  });

  test("Process.terminate() and kill() throw InvalidStateError before start()", () => {
    const p = new Process({ target: tasks.exitWith, args: [0] });
    assert.throws(() => p.terminate(), InvalidStateError);
    assert.throws(() => p.kill(), InvalidStateError);
    assert.equal(p.exitCode, null);
  });

  test("Process.terminate() and kill() do nothing once the process has ended", async () => {
    const p = await run(new Process({ target: tasks.exitWith, args: [4] }));
    p.terminate();
    p.kill();
    assert.equal(p.exitCode, 4, "the exit code stays the child's own");
    assert.equal(p.isAlive(), false);
  });

  test("Process.toString() names the process and its state, like Python's repr", async () => {
    const box = new Box();
    const p = new Process({ target: tasks.block, args: [box], name: "shown", daemon: true });
    assert.equal(String(p), "<Process name='shown' initial daemon>");
    p.start();
    assert.equal(String(p), "<Process name='shown' started daemon>");
    await within(box.until(0), LIMIT, "child start");
    box.raise(1);
    await within(p.join(), LIMIT);
    assert.equal(String(p), "<Process name='shown' stopped exitcode=0 daemon>");
  });

  test("Process.name is settable, and the child starts under the new name", async () => {
    const box = new Box();
    const p = new Process({ target: tasks.whoAmI, args: [box], name: "before" });
    p.name = "after";
    await run(p);
    assert.equal(p.name, "after");
    assert.equal((box.read() as { name: string }).name, "after");
  });

  test("exit() without a code ends the child with exit code 0", async () => {
    const p = await run(new Process({ target: tasks.exitDefault }));
    assert.equal(p.exitCode, 0);
    assert.equal(p.error, null);
  });

  test("exit() with a code that is not an integer throws TypeError in the child", async () => {
    for (const code of [1.5, "3", NaN]) {
      const p = await run(new Process({ target: tasks.exitBadCode, args: [code] }));
      assert.equal(p.exitCode, 1, `exit(${String(code)})`);
      assert.ok(p.error instanceof TypeError, `exit(${String(code)}) gave ${String(p.error)}`);
      assert.match(p.error.message, /code must be an integer/);
    }
  });
});

describe("program exit", () => {
  test("the main thread waits for non-daemon children and stops daemon children", async () => {
    const { code, stdout, timedOut } = await runProgram(new URL("../testdata/daemon_main.ts", import.meta.url), LIMIT);
    assert.equal(timedOut, false, "the program ended although a daemon child never returns");
    assert.equal(code, 0);
    assert.deepEqual(stdout.trim().split("\n"), ["main returned", "non-daemon child done"]);
  });
});

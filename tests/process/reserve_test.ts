import assert from "node:assert/strict";
import process from "node:process";
import { describe } from "node:test";
import { reservedProcesses } from "../../_internal/process_reserve.ts";
import { reserved } from "../../_internal/worker_reserve.ts";
import { getContext } from "../../context.ts";
import { getReserve, MAX_RESERVE, Process, setReserve, taskModule, warmReserve } from "../../process/mod.ts";
import { after, eventually, pidAlive, test, within } from "../_helpers.ts";
import { runProgram } from "../_run_program.ts";
import { Box } from "../testdata/box.ts";

const tasks = taskModule<typeof import("../testdata/tasks.ts")>(new URL("../testdata/tasks.ts", import.meta.url));
const LIMIT = 30_000;
const initial = getReserve();

after(() => setReserve(initial));

async function warm(size: number): Promise<void> {
  setReserve(size);
  assert.equal(await warmReserve({ timeout: LIMIT }), true, "the reserve warmed up");
  assert.equal(reserved(), size);
}

describe("worker reserve", () => {
  test("Process.start() takes a ready worker from the reserve, which refills", { timeout: 60_000 }, async () => {
    await warm(2);
    const box = new Box();
    const p = new Process({ target: tasks.work, args: [box, 21], name: "from-reserve" });
    p.start();
    assert.equal(reserved(), 1, "the start took a reserve worker");
    await within(p.join(), LIMIT, "join");
    assert.equal(p.exitCode, 0);
    assert.deepEqual(box.read(), { result: 42 });
    await eventually(() => reserved() === 2, LIMIT, "the reserve refilling");
    assert.equal(await warmReserve({ timeout: LIMIT }), true);
  });

  test(
    "a reserve worker runs its process as a fresh one: identity, errors, exit codes",
    { timeout: 60_000 },
    async () => {
      await warm(3);
      const box = new Box();
      const who = new Process({ target: tasks.whoAmI, args: [box], name: "named" });
      const failing = new Process({ target: tasks.fail, args: ["from reserve"] });
      const exiting = new Process({ target: tasks.exitWith, args: [7] });
      for (const p of [who, failing, exiting]) p.start();
      await within(Promise.all([who.join(), failing.join(), exiting.join()]), LIMIT, "joins");
      assert.equal((box.read() as { name: string }).name, "named");
      assert.equal(who.exitCode, 0);
      assert.equal(failing.exitCode, 1);
      assert.match(String(failing.error?.message), /from reserve/);
      assert.equal(exiting.exitCode, 7);
    },
  );

  test("Process.terminate() stops a process started from the reserve with -15", { timeout: 60_000 }, async () => {
    await warm(1);
    const box = new Box();
    const p = new Process({ target: tasks.block, args: [box] });
    p.start();
    assert.equal(reserved(), 0);
    await within(box.until(0), LIMIT, "the child to start");
    p.terminate();
    await within(p.join(), LIMIT, "join");
    assert.equal(p.exitCode, -15);
  });

  test("a Process started after the parent changed its environment sees the change", { timeout: 60_000 }, async () => {
    await warm(2);
    const name = "MPROC_RESERVE_TEST";
    process.env[name] = "changed after the reserve started";
    try {
      const box = new Box();
      const p = new Process({ target: tasks.reportEnv, args: [box, name] });
      p.start();
      assert.equal(reserved(), 0, "the stale reserve workers were stopped, not used");
      await within(p.join(), LIMIT, "join");
      assert.equal(p.exitCode, 0);
      assert.deepEqual(box.read(), { value: "changed after the reserve started" });
    } finally {
      delete process.env[name];
    }
  });

  test("setReserve(0) empties the reserve and starts still work", { timeout: 60_000 }, async () => {
    await warm(1);
    setReserve(0);
    assert.equal(reserved(), 0);
    const box = new Box();
    const p = new Process({ target: tasks.work, args: [box, 2] });
    p.start();
    await within(p.join(), LIMIT, "join");
    assert.deepEqual(box.read(), { result: 4 });
    assert.equal(await warmReserve({ timeout: 0 }), true);
    assert.equal(reserved(), 0);
  });

  test("setReserve() refuses a size that is not an integer from 0 to MAX_RESERVE", () => {
    for (const bad of [-1, 1.5, NaN, MAX_RESERVE + 1, "2" as unknown as number]) {
      assert.throws(() => setReserve(bad), (error: Error) => {
        assert.ok(error instanceof RangeError);
        assert.match(error.message, /Cannot set the worker reserve: the size must be an integer/);
        return true;
      });
    }
  });

  test("warmReserve() rejects a negative timeout with RangeError", async () => {
    await assert.rejects(warmReserve({ timeout: -1 }), RangeError);
  });

  test("warmReserve() rejects with the signal's reason", async () => {
    const reason = new Error("stop");
    await assert.rejects(warmReserve({ signal: AbortSignal.abort(reason) }), (error) => error === reason);
  });

  test("a program whose only handles are reserve workers exits; a child taken from it is waited for", {
    timeout: 60_000,
  }, async () => {
    const program = new URL("../testdata/reserve_main.ts", import.meta.url);
    const { code, stdout, stderr, timedOut } = await runProgram(program, LIMIT);
    assert.equal(timedOut, false, "the reserve kept the program alive");
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split("\n"), ["main returned", "child done"]);
  });
});

describe("OS-process reserve", () => {
  const ctx = getContext("process");
  const osTasks = taskModule<typeof import("../testdata/os_tasks.ts")>(
    new URL("../testdata/os_tasks.ts", import.meta.url),
  );
  const ENTRY = new URL("../../process/_entry.ts", import.meta.url).href;

  async function warmOs(size: number): Promise<void> {
    setReserve(size);
    // The reserve of an entry exists once a child has been started on it.
    const first = new ctx.Process({ target: osTasks.osPid });
    first.start();
    await within(first.join(), LIMIT, "join of the first OS child");
    assert.equal(await warmReserve({ timeout: LIMIT }), true, "the reserve warmed up");
    assert.equal(reservedProcesses(ENTRY), size);
  }

  test("a process-context Process starts on a reserve child, which refills", { timeout: 60_000 }, async () => {
    await warmOs(1);
    const p = new ctx.Process({ target: osTasks.osPid });
    p.start();
    assert.equal(reservedProcesses(ENTRY), 0, "the start took the reserve child");
    await within(p.join(), LIMIT, "join");
    assert.equal(p.exitCode, 0);
    await eventually(() => reservedProcesses(ENTRY) === 1, LIMIT, "the reserve refilling");
  });

  test("an OS child started after the parent changed its environment sees the change", {
    timeout: 60_000,
  }, async () => {
    await warmOs(1);
    const name = "MPROC_OS_RESERVE_TEST";
    process.env[name] = "changed";
    try {
      const p = new ctx.Process({ target: osTasks.exitUnlessEnv, args: [name, "changed"] });
      p.start();
      assert.equal(reservedProcesses(ENTRY), 0, "the stale reserve child was stopped, not used");
      await within(p.join(), LIMIT, "join");
      assert.equal(p.exitCode, 0, "the child saw the variable");
    } finally {
      delete process.env[name];
    }
  });

  test("a program with a warm OS reserve exits, and its reserve children with it", { timeout: 60_000 }, async () => {
    const program = new URL("../testdata/os_reserve_main.ts", import.meta.url);
    const { code, stdout, stderr, timedOut } = await runProgram(program, LIMIT);
    assert.equal(timedOut, false, "the reserve kept the program alive");
    assert.equal(code, 0, stderr);
    const pids = JSON.parse(stdout.trim()) as number[];
    assert.equal(pids.length, 2);
    await eventually(() => pids.every((pid) => !pidAlive(pid)), LIMIT, "the reserve children ending");
  });

  test("reserve children end when their parent is killed before it gave them work", { timeout: 60_000 }, async () => {
    const program = new URL("../testdata/os_reserve_main.ts", import.meta.url);
    const { code, stdout, stderr, timedOut } = await runProgram(program, LIMIT, ["kill"]);
    assert.equal(timedOut, false);
    assert.equal(code, null, stderr);
    const pids = JSON.parse(stdout.trim()) as number[];
    assert.equal(pids.length, 2);
    await eventually(() => pids.every((pid) => !pidAlive(pid)), LIMIT, "the orphaned reserve children ending");
  });
});

import assert from "node:assert/strict";
import process from "node:process";
import { afterEach, describe } from "node:test";
import { getContext } from "../context.ts";
import { InvalidStateError } from "../errors.ts";
import { Pool } from "../pool/mod.ts";
import { getAllStartMethods, getStartMethod, Process, setStartMethod, taskModule } from "../process/mod.ts";
import { Lock } from "../sync/mod.ts";
import { test, within } from "./_helpers.ts";

const tasks = taskModule<typeof import("./testdata/tasks.ts")>(new URL("./testdata/tasks.ts", import.meta.url));
const LIMIT = 30_000;

describe("start methods", () => {
  // Tests share one program on Deno and Bun: leave the default unset for the next file.
  afterEach(() => setStartMethod(null, { force: true }));

  test("getStartMethod() is thread by default and fixes the default, as Python's does", { timeout: LIMIT }, () => {
    assert.deepEqual(getAllStartMethods(), ["thread", "process"]);
    setStartMethod(null, { force: true });
    assert.equal(getStartMethod(), "thread");
    assert.throws(
      () => setStartMethod("process"),
      (e: Error) =>
        e instanceof InvalidStateError && /already set to "thread"/.test(e.message) && /force/.test(e.message),
    );
    setStartMethod("process", { force: true });
    assert.equal(getStartMethod(), "process");
  });

  test("setStartMethod() may be called once, then only with force", { timeout: LIMIT }, () => {
    setStartMethod(null, { force: true });
    setStartMethod("process");
    assert.throws(() => setStartMethod("thread"), InvalidStateError);
    assert.throws(() => setStartMethod("process"), InvalidStateError, "even the same method, as in Python");
    assert.equal(getStartMethod(), "process");
    setStartMethod("thread", { force: true });
    assert.equal(getStartMethod(), "thread");
  });

  test("setStartMethod() and getContext() refuse an unknown method, naming it", { timeout: LIMIT }, () => {
    assert.throws(() => setStartMethod("fork" as never, { force: true }), /"fork".*"thread" or "process"/);
    assert.throws(() => getContext("spawn" as never), RangeError);
    assert.throws(() => new Process({ target: tasks.work, startMethod: "os" as never }), /"os"/);
  });

  test("a Process without a start method uses the default when it starts", { timeout: LIMIT }, async () => {
    setStartMethod("process");
    const p = new Process({ target: tasks.exitWith, args: [5] });
    assert.equal(p.startMethod, null);
    p.start();
    assert.equal(p.startMethod, "process");
    assert.notEqual(p.pid, process.pid);
    await within(p.join(), LIMIT, "join");
    assert.equal(p.exitCode, 5);
  });

  test(
    "getContext() gives one object per method with the constructors that work there",
    { timeout: LIMIT },
    async () => {
      const thread = getContext("thread");
      const os = getContext("process");
      assert.equal(getContext("thread"), thread);
      assert.equal(thread.startMethod, "thread");
      assert.equal(os.startMethod, "process");
      await using pool = new thread.Pool({ processes: 1 });
      assert.ok(pool instanceof Pool);
      assert.equal(thread.Lock, Lock);
      assert.equal(typeof os.Pool, "function");
      assert.equal(typeof os.ProcessPoolExecutor, "function");
      for (const name of ["Lock", "RLock", "Semaphore", "Event", "Barrier", "Condition"]) {
        assert.ok(!(name in os), `${name} is not offered across OS processes`);
      }
      assert.equal(getContext(), thread, "no argument: the default context");
      assert.equal(typeof os.cpuCount(), "number");
    },
  );

  test("getContext(method).Process starts with that method, whatever the default", { timeout: LIMIT }, async () => {
    setStartMethod("process");
    const t = new (getContext("thread").Process)({ target: tasks.exitWith, args: [3] });
    const o = new (getContext("process").Process)({ target: tasks.exitWith, args: [4], startMethod: "thread" });
    assert.ok(t instanceof Process);
    t.start();
    o.start();
    assert.equal(t.startMethod, "thread");
    assert.equal(o.startMethod, "process");
    assert.notEqual(o.pid, process.pid);
    await within(Promise.all([t.join(), o.join()]), LIMIT, "join");
    assert.deepEqual([t.exitCode, o.exitCode], [3, 4]);
  });
});

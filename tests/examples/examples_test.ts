// The process, pool, executor, shared-value and speed-up examples run as whole programs on
// the runtime under test, and every example of examples/ is run by some test of this folder.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe } from "node:test";
import { test } from "../_helpers.ts";
import { runProgram } from "../_run_program.ts";

const LIMIT = 40_000;

async function runAll(name: string): Promise<{ stdout: string; stderr: string }> {
  const { code, stdout, stderr, timedOut } = await runProgram(
    new URL(`../../examples/${name}`, import.meta.url),
    LIMIT,
  );
  assert.equal(timedOut, false, `${name} did not end within ${LIMIT} ms`);
  assert.equal(code, 0, stdout + stderr);
  return { stdout, stderr };
}

async function run(name: string): Promise<string> {
  return (await runAll(name)).stdout;
}

function lines(...xs: string[]): string {
  return xs.map((x) => x + "\n").join("");
}

describe("examples", () => {
  test("every example program is run by a test in tests/examples", () => {
    const dir = new URL("../../examples/", import.meta.url);
    const programs = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith("_tasks.ts"));
    const tests = readdirSync(new URL(".", import.meta.url))
      .filter((f) => f.endsWith("_test.ts"))
      .map((f) => readFileSync(new URL(f, import.meta.url), "utf8"))
      .join("\n");
    assert.deepEqual(programs.filter((p) => !tests.includes(`"${p}"`) && !tests.includes(`examples/${p}`)), []);
  });

  test(
    "process_basics.ts: target and args, exit codes, the child's error, terminate()",
    { timeout: LIMIT + 5_000 },
    async () => {
      assert.equal(
        await run("process_basics.ts"),
        lines(
          "greeter: hello bob (1/2)",
          "greeter: hello bob (2/2)",
          "greeter exited with 0",
          "failing exited with 1: RangeError: no such user",
          "quitting exited with 3",
          "endless is alive: true",
          "endless exited with -15, alive: false",
        ),
      );
    },
  );

  test("daemon.ts: the program waits for its worker and stops its daemon", { timeout: LIMIT + 5_000 }, async () => {
    assert.equal(
      await run("daemon.ts"),
      lines(
        "children: daemon (daemon), worker",
        "main: returning without join(); the worker finishes, the daemon is stopped",
        "worker: done",
      ),
    );
  });

  test("start_methods.ts: getContext('thread') and getContext('process')", { timeout: LIMIT + 5_000 }, async () => {
    assert.equal(
      await run("start_methods.ts"),
      lines(
        "default start method: thread",
        "thread-child: hello thread (1/1)",
        "thread: exit code 0, fib 55 6765, pool worker in this OS process",
        "process-child: hello process (1/1)",
        "process: exit code 0, fib 55 6765, pool worker in its own OS process",
      ),
    );
  });

  test(
    "pool.ts: map, starmap, imap, imapUnordered, applyAsync, a task's error, a progress bar, a stream",
    { timeout: LIMIT + 5_000 },
    async () => {
      const { stdout, stderr } = await runAll("pool.ts");
      assert.equal(
        stdout,
        lines(
          "map: 0,1,4,9,16,25,36,49,64,81",
          "starmap: 8,9,1",
          "imap: 900,400,100,0",
          "imapUnordered: 4 results, sorted: 0,100,400,900",
          "applyAsync: get() = 144, successful() = true, callback saw 144",
          "apply raised RangeError: cannot take the square root of -1",
          "map with a progress bar: 20 values, the last 361",
          "stream: 3, 2, 1, liftoff",
        ),
      );
      assert.match(stderr, /\[#{20}\] 20\/20\n/);
    },
  );

  test("executor.ts: submit, asCompleted, map, a Future's exception", { timeout: LIMIT + 5_000 }, async () => {
    assert.equal(
      await run("executor.ts"),
      lines(
        "submit: result() = 49, done() = true",
        "asCompleted: 3 futures, sorted: 0,225,900",
        "map: 1,4,9,16",
        "exception(): RangeError: cannot take the square root of -4",
      ),
    );
  });

  test(
    "value_array.ts: Python's Value/Array example, then getLock() around each pass",
    { timeout: LIMIT + 5_000 },
    async () => {
      assert.equal(
        await run("value_array.ts"),
        lines(
          "3.1415927",
          "[0, -1, -2, -3, -4, -5, -6, -7, -8, -9]",
          "after 2 × 500 locked passes: [1000, 999, 998, 997, 996, 995, 994, 993, 992, 991]",
        ),
      );
    },
  );

  test("shareable_list.ts: Python's ShareableList example, edited by a child", { timeout: LIMIT + 5_000 }, async () => {
    assert.equal(
      await run("shareable_list.ts"),
      lines(
        "item 2: -273.154, length 7, format 8s8sdqxxxxxx?xxxxxxxx?q",
        "count(100) = 1, index(42) = 6",
        "after the child: hi, 200",
      ),
    );
  });

  test("demo.ts: four processes, then the CPU-bound speed-up, serial and pooled times printed", {
    timeout: LIMIT + 5_000,
  }, async () => {
    const out = await run("demo.ts");
    assert.match(out, /^MainProcess: exit codes 0, 0, 0, 0$/m);
    assert.match(out, /^Pool\.map: 16 × fib\(30\) = 832040 each, \d+ ms on one thread, \d+ ms on \d+ workers/m);
  });
});

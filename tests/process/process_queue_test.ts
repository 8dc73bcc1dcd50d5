// Queues of the process context, which OS children reach on their maker's Unix socket.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe } from "node:test";
import { getContext } from "../../context.ts";
import { EmptyError, InvalidStateError } from "../../errors.ts";
import { taskModule } from "../../process/mod.ts";
import { after, test, within } from "../_helpers.ts";
import { runProgram } from "../_run_program.ts";

const tasks = taskModule<typeof import("../testdata/os_tasks.ts")>(new URL("../testdata/os_tasks.ts", import.meta.url));
const PROCESS = getContext("process");
const LIMIT = 40_000;
const dir = mkdtempSync(join(tmpdir(), "mproc-process-queue-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("process-context queues", () => {
  test("4 producer and 4 consumer OS processes pass every item once (checksum)", { timeout: LIMIT }, async () => {
    const PER = 150;
    const queue = await PROCESS.Queue<number>({ maxsize: 64 });
    const results = await PROCESS.SimpleQueue<number[]>();
    const producers = Array.from(
      { length: 4 },
      (_, i) => new PROCESS.Process({ target: tasks.produce, args: [queue as never, i * PER, PER] }),
    );
    const consumers = Array.from(
      { length: 4 },
      () => new PROCESS.Process({ target: tasks.consume, args: [queue as never, results as never] }),
    );
    for (const p of [...consumers, ...producers]) p.start();
    await within(Promise.all(producers.map((p) => p.join())), LIMIT, "producers");
    await queue.close();
    const taken = await within(Promise.all(consumers.map(() => results.get())), LIMIT, "results");
    await within(Promise.all(consumers.map((p) => p.join())), LIMIT, "consumers");
    assert.deepEqual([...producers, ...consumers].map((p) => p.exitCode), Array(8).fill(0));
    const all = taken.flat().sort((a, b) => a - b);
    assert.equal(all.length, 4 * PER, "none lost or duplicated");
    assert.deepEqual(all, Array.from({ length: 4 * PER }, (_, i) => i));
    assert.ok(taken.filter((t) => t.length > 0).length >= 1);
  });

  test("a closed queue drains in an OS child, then gets and puts fail as in the thread context", {
    timeout: LIMIT,
  }, async () => {
    const queue = await PROCESS.Queue<string>();
    await queue.put("a");
    await queue.put("b");
    await queue.close();
    const file = join(dir, "closed.json");
    const p = new PROCESS.Process({ target: tasks.putOnClosed, args: [queue as never, file] });
    p.start();
    await within(p.join(), LIMIT, "join");
    assert.equal(p.exitCode, 0);
    const { drained, errors } = JSON.parse(readFileSync(file, "utf8"));
    assert.deepEqual(drained, ["a", "b"]);
    assert.equal(errors.length, 2);
    assert.match(errors[0], /^InvalidStateError: .*closed and empty/);
    assert.match(errors[1], /^InvalidStateError: .*closed/);
    await assert.rejects(queue.get(), InvalidStateError);
  });

  test("a bad maxsize fails with the thread context's RangeError", { timeout: LIMIT }, async () => {
    for (const maxsize of [-1, 1.5, "2" as never]) {
      await assert.rejects(
        PROCESS.Queue({ maxsize }),
        (e: Error) => e instanceof RangeError && /maxsize/.test(e.message),
      );
      await assert.rejects(PROCESS.JoinableQueue({ maxsize }), RangeError);
    }
  });

  test("JoinableQueue: join() returns once OS workers in a pool marked every item done", {
    timeout: LIMIT,
  }, async () => {
    const jobs = await PROCESS.JoinableQueue<number>();
    const out = await PROCESS.Queue<number>();
    for (let i = 1; i <= 6; i++) await jobs.put(i);
    await using pool = new PROCESS.Pool({
      processes: 2,
      initializer: tasks.keepQueues,
      initargs: [jobs, out] as never,
    });
    const done = Promise.all([pool.apply(tasks.workKept, [3]), pool.apply(tasks.workKept, [3])]);
    await within(jobs.join(), LIMIT, "join");
    await within(done, LIMIT, "workers");
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) seen.push(await out.get());
    assert.deepEqual(seen.sort((a, b) => a - b), [10, 20, 30, 40, 50, 60]);
    await assert.rejects(out.get({ block: false }), EmptyError);
  });

  test("a process-context queue does not keep a finished program alive", { timeout: LIMIT }, async () => {
    const program = new URL("../testdata/os_queue_main.ts", import.meta.url);
    const { code, stdout, timedOut } = await runProgram(program, LIMIT, []);
    assert.equal(timedOut, false);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), "got 0,1,2");
  });
});

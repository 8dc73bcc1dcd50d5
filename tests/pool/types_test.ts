// Compile-time checks, run by `tsc --noEmit`: each @ts-expect-error line must fail to
// type-check, and the others must pass. At run time the test only checks the values.
import assert from "node:assert/strict";
import { describe } from "node:test";
import { type AsyncResult, type Future, Pool, ProcessPoolExecutor, taskModule } from "../../pool/mod.ts";
import { after, test, within } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;

describe("Pool types", () => {
  const pool = new Pool({ processes: 1 });
  const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
  after(async () => {
    await pool.terminate();
    await executor.shutdown();
  });

  test("Pool.apply() is typed by the task", async () => {
    const fib: Promise<number> = pool.apply(tasks.fib, [10]);
    const text: Promise<string> = pool.apply(tasks.sleepy, [1, "s"]);
    assert.equal(await within(fib, LIMIT), 55);
    assert.equal(await within(text, LIMIT), "s");
    if (false as boolean) {
      // @ts-expect-error a string is not a number
      void pool.apply(tasks.fib, ["30"]);
      // @ts-expect-error missing argument
      void pool.apply(tasks.add, [1]);
      // @ts-expect-error the result is a number, not a string
      const wrong: Promise<string> = pool.apply(tasks.fib, [1]);
      void wrong;
    }
  });

  test("Pool.apply() and applyAsync() take no argument list for a task without parameters", async () => {
    const value: Promise<number> = pool.apply(tasks.answer);
    assert.equal(await within(value, LIMIT), 42);
    assert.equal(await within(pool.applyAsync(tasks.answer).get(), LIMIT), 42);
    assert.equal(await within(pool.apply(tasks.answer, [], { timeout: LIMIT }), LIMIT), 42);
    if (false as boolean) {
      // @ts-expect-error fib needs its argument list
      void pool.apply(tasks.fib);
      // @ts-expect-error a task without parameters takes no arguments
      void pool.apply(tasks.answer, [1]);
    }
  });

  test("Pool.map(), starmap(), imap() and applyAsync() are typed by the task", async () => {
    const squares: number[] = await within(pool.map(tasks.square, [1, 2]), LIMIT);
    const sums: number[] = await within(pool.starmap(tasks.add, [[1, 2]]), LIMIT);
    const later: AsyncResult<number> = pool.applyAsync(tasks.square, [3]);
    assert.deepEqual([squares, sums, await within(later.get(), LIMIT)], [[1, 4], [3], 9]);
    if (false as boolean) {
      // @ts-expect-error items must be numbers
      void pool.map(tasks.square, ["a"]);
      // @ts-expect-error each item must be an argument list of two numbers
      void pool.starmap(tasks.add, [[1, "2"]]);
      // @ts-expect-error items must be numbers
      void pool.imap(tasks.square, ["a"]);
      // @ts-expect-error the argument must be a number
      void pool.applyAsync(tasks.fib, [true]);
    }
  });

  test("ProcessPoolExecutor.submit() is typed by the task", async () => {
    const future: Future<number> = executor.submit(tasks.add, 1, 2);
    assert.equal(await within(future.result(), LIMIT), 3);
    if (false as boolean) {
      // @ts-expect-error a string is not a number
      void executor.submit(tasks.add, 1, "2");
      // @ts-expect-error items must be numbers
      void executor.map(tasks.square, ["a"]);
    }
  });
});

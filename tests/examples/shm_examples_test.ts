// The shared-memory examples run as whole programs on the runtime under test.
import assert from "node:assert/strict";
import { describe } from "node:test";
import { test } from "../_helpers.ts";
import { runProgram } from "../_run_program.ts";

const LIMIT = 60_000;

function example(name: string): URL {
  return new URL(`../../examples/${name}`, import.meta.url);
}

describe("shm examples", () => {
  test("examples/shared_counter.ts counts to 100000 with four processes", { timeout: LIMIT + 5_000 }, async () => {
    const { code, stdout, timedOut } = await runProgram(example("shared_counter.ts"), LIMIT);
    assert.equal(timedOut, false);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /counter = 100000 \(expected 100000\)/);
  });

  test("examples/parallel_fill.ts fills one array from four processes", { timeout: LIMIT + 5_000 }, async () => {
    const { code, stdout, timedOut } = await runProgram(example("parallel_fill.ts"), LIMIT);
    assert.equal(timedOut, false);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /matches the serial sum/);
  });

  test("examples/shm_rwlock.ts guards a SharedMemory block with an RWLock", { timeout: LIMIT + 5_000 }, async () => {
    const { code, stdout, timedOut } = await runProgram(example("shm_rwlock.ts"), LIMIT);
    assert.equal(timedOut, false);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /readers saw no torn write; exit codes 0, 0, 0/);
  });
});

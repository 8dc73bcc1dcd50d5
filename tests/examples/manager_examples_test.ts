import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runProgram } from "../_run_program.ts";

describe("manager examples", () => {
  test("examples/manager_dict.ts counts words from four processes", { timeout: 30_000 }, async () => {
    const r = await runProgram(new URL("../../examples/manager_dict.ts", import.meta.url), 25_000);
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      [
        "counts: a=1 cat=2 dog=1 end=1 ran=1 sat=2 the=3",
        "log entries: 4",
        "RangeError: Cannot pop key \"zebra\": it is not in the dict",
        "the: 3",
        "",
      ].join("\n"),
    );
  });

  test("examples/manager_remote.ts shares a dict with another OS process over TCP", { timeout: 30_000 }, async () => {
    const r = await runProgram(new URL("../../examples/manager_remote.ts", import.meta.url), 25_000);
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      [
        "client read: hello from the server",
        "client exited with 0",
        "server read: hello from process N",
        "wrong key: AuthenticationError",
        "",
      ].join("\n"),
    );
  });
});

// The queue and pipe examples run as whole programs on the runtime under test.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runProgram } from "../_run_program.ts";

describe("ipc examples", () => {
  test("examples/queue_producer_consumer.ts squares 100 numbers through queues", { timeout: 30_000 }, async () => {
    const r = await runProgram(new URL("../../examples/queue_producer_consumer.ts", import.meta.url), 25_000);
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      [
        "squared 100 numbers, sum 328350",
        "all tasks done: SPAM EGGS HAM",
        "InvalidStateError: Cannot put item on queue: it is closed",
        "",
      ].join("\n"),
    );
  });

  test("examples/pipe.ts sends, ping-pongs and sees EOF", { timeout: 30_000 }, async () => {
    const r = await runProgram(new URL("../../examples/pipe.ts", import.meta.url), 25_000);
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      [
        "[42,null,\"hello\"]",
        "after the child closed its end: EOFError",
        "pong 1",
        "pong 2",
        "pong 3",
        "ready: r2",
        "poll r1 at EOF: true",
        "",
      ].join("\n"),
    );
  });
});

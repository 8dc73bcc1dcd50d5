import assert from "node:assert/strict";
import { describe } from "node:test";
import { cpuCount, currentProcess, exit, parentProcess } from "../../process/mod.ts";
import { test } from "../_helpers.ts";

describe("current process", () => {
  test("currentProcess() in the main thread is MainProcess with ident and pid 1", () => {
    const me = currentProcess();
    assert.equal(me.name, "MainProcess");
    assert.equal(me.ident, 1);
    assert.equal(me.pid, 1);
    assert.equal(me.daemon, false);
    assert.equal(me.isAlive(), true);
  });

  test("parentProcess() is null in the main thread", () => {
    assert.equal(parentProcess(), null);
  });

  test("exit() with a code that is not an integer throws TypeError and does not end the program", () => {
    for (const code of [1.5, NaN, Infinity, "0"]) {
      assert.throws(() => exit(code as number), (error: Error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /Cannot exit: the code must be an integer/);
        return true;
      });
    }
  });

  test("cpuCount() is a positive integer", () => {
    assert.ok(Number.isInteger(cpuCount()) && cpuCount() >= 1);
  });

  test("currentProcess().name is settable, and a later currentProcess() sees the new name", () => {
    const me = currentProcess();
    try {
      me.name = "Renamed";
      assert.equal(currentProcess().name, "Renamed");
    } finally {
      me.name = "MainProcess";
    }
    assert.equal(currentProcess().name, "MainProcess");
  });
});

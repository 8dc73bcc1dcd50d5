import assert from "node:assert/strict";
import { describe } from "node:test";
import { isTaskRef, task, taskModule } from "../task.ts";
import { test } from "./_helpers.ts";

const URL_ = new URL("./testdata/tasks.ts", import.meta.url);

describe("task", () => {
  test("task() makes a cloneable reference with the default export by default", () => {
    const ref = task(URL_);
    assert.deepEqual(structuredClone(ref), { module: URL_.href, name: "default" });
    assert.ok(isTaskRef(ref));
  });

  test("taskModule() gives typed references per export", () => {
    const tasks = taskModule<typeof import("./testdata/tasks.ts")>(URL_);
    assert.deepEqual({ ...tasks.work }, { module: URL_.href, name: "work" });
    assert.equal(tasks.work, tasks.work, "references are cached");
    assert.equal((tasks as unknown as { then?: unknown }).then, undefined, "the view is not a thenable");
  });

  test("task() rejects relative module paths and empty names", () => {
    assert.throws(() => task("./tasks.ts"), TypeError);
    assert.throws(() => task(URL_, ""), TypeError);
  });
});

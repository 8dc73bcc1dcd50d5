import assert from "node:assert/strict";
import { describe } from "node:test";
import { Process, taskModule } from "../../process/mod.ts";
import { Event } from "../../sync/event.ts";
import { test, within } from "../_helpers.ts";
import { Box } from "../testdata/box.ts";
import { assertTimedOut, LIMIT, withoutBlocking } from "./_sync_helpers.ts";

const tasks = taskModule<typeof import("../testdata/sync_tasks.ts")>(
  new URL("../testdata/sync_tasks.ts", import.meta.url),
);

describe("Event", () => {
  test("Event.set(), clear() and isSet() toggle the flag", async () => {
    const event = new Event();
    assert.equal(event.isSet(), false);
    event.set();
    assert.equal(event.isSet(), true);
    assert.equal(await event.wait(), true);
    assert.equal(event.waitSync(0), true);
    event.clear();
    assert.equal(event.isSet(), false);
    assert.equal(await event.wait(0), false);
  });

  test("Event.wait() returns false near its timeout", async () => {
    const event = new Event();
    let started = performance.now();
    assert.equal(await within(event.wait(40), LIMIT), false);
    assertTimedOut(started, 40);
    started = performance.now();
    assert.equal(event.waitSync(40), false);
    assertTimedOut(started, 40);
  });

  test("Event.wait() rejects a negative or NaN timeout with RangeError", async () => {
    const event = new Event();
    await assert.rejects(event.wait(-1), RangeError);
    assert.throws(() => event.waitSync(NaN), RangeError);
  });

  test("Event.waitSync() throws a TypeError naming the async form where blocking is not allowed", () => {
    withoutBlocking(() => {
      assert.throws(() => new Event().waitSync(), { name: "TypeError", message: /await event\.wait\(\)/ });
    });
  });

  test("Event.set() wakes 3 waiting workers and a waiting task", async () => {
    const event = new Event();
    const box = new Box();
    const ps = [0, 1, 2].map((slot) => new Process({ target: tasks.waitEvent, args: [event, box, slot] }));
    for (const p of ps) p.start();
    for (const slot of [0, 1, 2]) await within(box.until(slot), LIMIT, `worker ${slot} ready`);
    const local = event.wait(LIMIT);
    event.set();
    assert.equal(await within(local, LIMIT), true);
    for (const slot of [0, 1, 2]) await within(box.until(slot + 8), LIMIT, `worker ${slot} woken`);
    await within(Promise.all(ps.map((p) => p.join())), LIMIT);
    assert.deepEqual([8, 9, 10].map((i) => box.flags[i]), [1, 1, 1]);
    for (const p of ps) assert.equal(p.exitCode, 0);
  });

  test("Event.wait() rejects with the signal's reason", async () => {
    const event = new Event();
    const controller = new AbortController();
    const reason = new Error("no longer needed");
    const waiting = event.wait(undefined, { signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(within(waiting, LIMIT), (e) => e === reason);
    await assert.rejects(event.wait(10, { signal: AbortSignal.abort(reason) }), (e) => e === reason);
    event.set();
    assert.equal(await event.wait(undefined, { signal: new AbortController().signal }), true);
  });
});

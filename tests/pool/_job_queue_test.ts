import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { callSignal } from "../../_internal/call_signal.ts";
import { DISPATCHED, Job, QUEUED, SETTLED } from "../../pool/_job.ts";
import { JobQueue } from "../../pool/_job_queue.ts";
import { CALL } from "../../pool/_protocol.ts";

function job(id: number): Job {
  return new Job(id, "f", 0, CALL, 1, { value: [id] }, () => {}, undefined);
}

describe("JobQueue", () => {
  test("JobQueue is first in, first out", { timeout: 5_000 }, () => {
    const queue = new JobQueue();
    for (let i = 0; i < 5; i++) queue.push(job(i));
    assert.equal(queue.size, 5);
    assert.equal(queue.peek()!.id, 0);
    assert.deepEqual(queue.drain().map((j) => j.id), [0, 1, 2, 3, 4]);
    assert.equal(queue.size, 0);
    assert.equal(queue.shift(), undefined);
  });

  test("JobQueue skips a job that left early, in O(1)", { timeout: 5_000 }, () => {
    const queue = new JobQueue();
    const jobs = [job(0), job(1), job(2)];
    for (const j of jobs) queue.push(j);
    jobs[0].done(true, new Error("cancelled"));
    queue.removed();
    jobs[1].done(true, new Error("cancelled"));
    queue.removed();
    assert.equal(jobs[0].state, SETTLED);
    assert.equal(queue.size, 1);
    assert.equal(queue.peek(), jobs[2]);
    assert.equal(queue.shift(), jobs[2]);
    assert.equal(queue.size, 0);
  });

  test("JobQueue.unshift() puts a dead worker's jobs back at the front, queued again", { timeout: 5_000 }, () => {
    const queue = new JobQueue();
    const later = job(5);
    queue.push(later);
    const back = [job(1), job(2)];
    for (const j of back) j.state = DISPATCHED;
    queue.unshift(back);
    assert.deepEqual(back.map((j) => j.state), [QUEUED, QUEUED]);
    assert.deepEqual(queue.drain().map((j) => j.id), [1, 2, 5]);
  });

  test("Job settles once, dropping its payload and its abort listener", { timeout: 5_000 }, () => {
    const controller = new AbortController();
    const outcomes: unknown[] = [];
    const j = new Job(
      1,
      "f",
      0,
      CALL,
      1,
      { value: ["x"] },
      (failed, value) => outcomes.push([failed, value]),
      callSignal(undefined, controller.signal, "run f"),
    );
    let aborted = 0;
    j.listen(() => aborted++);
    assert.equal(j.done(false, 7), true);
    assert.equal(j.done(true, 8), false);
    assert.deepEqual(outcomes, [[false, 7]]);
    assert.equal(j.payload, undefined);
    controller.abort();
    assert.equal(aborted, 0, "the listener was removed when the job settled");
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Job } from "../../pool/_job.ts";
import { CALL, CLAIM_OFFSET, STATUS_BYTES } from "../../pool/_protocol.ts";
import { WorkerSlot } from "../../pool/_worker_slot.ts";
import { FakeWorker } from "./_fake_workers.ts";

function slotWith(jobs: number): { slot: WorkerSlot; claim: Int32Array; held: Job[] } {
  const status = new SharedArrayBuffer(STATUS_BYTES);
  const slot = new WorkerSlot(new FakeWorker(1, "w"), "w", new Float64Array(status, 0, 1));
  const held = Array.from({ length: jobs }, (_, i) => new Job(i, "f", 0, CALL, 1, { value: [i] }, () => {}, undefined));
  for (const job of held) slot.hold(job);
  return { slot, claim: new Int32Array(status, CLAIM_OFFSET, 1), held };
}

/** What the worker does before running its job number `n`: claim it, or skip it. */
function workerClaims(claim: Int32Array, n: number): boolean {
  for (;;) {
    if (Atomics.load(claim, 0) > n) return false;
    if (Atomics.compareExchange(claim, 0, n, n + 1) === n) return true;
  }
}

describe("WorkerSlot", () => {
  test("steal() takes back the next unstarted jobs, which the worker then skips", { timeout: 5_000 }, () => {
    const { slot, claim, held } = slotWith(5);
    assert.equal(workerClaims(claim, 0), true, "the worker starts job 0");
    assert.equal(slot.unstarted, 4);
    assert.deepEqual(slot.steal(2), [held[1], held[2]]);
    assert.equal(slot.unstarted, 2);
    assert.equal(slot.load, 3, "job 0 runs; jobs 3 and 4 wait");
    assert.equal(workerClaims(claim, 1), false, "taken back");
    assert.equal(workerClaims(claim, 2), false, "taken back");
    assert.equal(workerClaims(claim, 3), true);
    // Results come for the jobs the worker ran, in order; the taken-back ones are skipped.
    assert.equal(slot.release(), held[0]);
    assert.equal(slot.release(), held[3]);
    assert.equal(slot.load, 1);
    assert.deepEqual(slot.releaseAll(), [held[4]]);
  });

  test("steal() gets nothing the worker has claimed, and stops at the end", { timeout: 5_000 }, () => {
    const { slot, claim, held } = slotWith(2);
    assert.equal(workerClaims(claim, 0), true);
    assert.equal(workerClaims(claim, 1), true);
    assert.deepEqual(slot.steal(5), []);
    assert.equal(slot.release(), held[0]);
    assert.equal(slot.release(), held[1]);
    assert.equal(slot.release(), undefined);
  });

  test("jobs taken back from the front are dropped from the worker's line at once", { timeout: 5_000 }, () => {
    const { slot, held } = slotWith(3);
    assert.deepEqual(slot.steal(2), [held[0], held[1]]);
    assert.equal(slot.load, 1);
    assert.equal(slot.guarded, false);
    assert.equal(slot.release(), held[2]);
    assert.equal(slot.load, 0);
  });
});

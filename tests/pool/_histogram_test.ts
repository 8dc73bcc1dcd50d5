import assert from "node:assert/strict";
import { Histogram } from "../../pool/_histogram.ts";
import { test } from "../_helpers.ts";

function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * 0.05, `${what}: ${actual}, expected about ${expected}`);
}

test("percentiles of 1..1000 ms are within 5%", { timeout: 5_000 }, () => {
  const h = new Histogram();
  for (let ms = 1000; ms >= 1; ms--) h.record(ms);
  assert.equal(h.count, 1000);
  near(h.percentile(50), 500, "p50");
  near(h.percentile(90), 900, "p90");
  near(h.percentile(99), 990, "p99");
  assert.equal(h.percentile(100), 1000, "the top is the largest recorded");
});

test("sub-microsecond, negative and huge durations stay in range", { timeout: 5_000 }, () => {
  const h = new Histogram();
  assert.equal(h.percentile(50), 0, "nothing recorded");
  h.record(-3);
  h.record(0.0001);
  assert.equal(h.percentile(99), 0.0001);
  h.record(1e12);
  assert.equal(h.percentile(100), 1e12);
  assert.ok(h.percentile(50) <= 0.0011, "p50 is in the first bucket, up to about 1 µs");
});

test("one value is reported exactly", { timeout: 5_000 }, () => {
  const h = new Histogram();
  h.record(12.34);
  for (const p of [50, 90, 99]) assert.equal(h.percentile(p), 12.34);
});

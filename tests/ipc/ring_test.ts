// The ring under queues and pipes, driven directly: limits that the public classes reach
// only with gigabytes of data.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { toMsg } from "../../ipc/_codec.ts";
import { CEILING_REACHED, DONE, getOp, MIN_BYTES, putOp, Ring } from "../../ipc/_ring.ts";

function put(ring: Ring, value: unknown): number {
  return ring.putSync(putOp(toMsg(value, "the item"), false), Infinity);
}

function get(ring: Ring): unknown {
  const op = getOp(true);
  assert.equal(ring.getSync(op, Infinity), DONE);
  return op.value;
}

describe("Ring", () => {
  test(
    "Ring of an unbounded queue grows to its ceiling, then refuses a put and keeps every item",
    { timeout: 20_000 },
    () => {
      const ring = Ring.create(MIN_BYTES, 4096, 0);
      let n = 0;
      for (; n < 10_000; n++) {
        const r = put(ring, n);
        if (r === CEILING_REACHED) break;
        assert.equal(r, DONE);
      }
      assert.ok(n > 200 && n < 10_000, `${n} items before the ceiling`);
      assert.equal(ring.capacity, 4096);
      assert.equal(ring.items(), n);
      for (let i = 0; i < n; i++) assert.equal(get(ring), i);
      assert.equal(put(ring, "room again"), DONE);
      assert.equal(get(ring), "room again");
    },
  );

  test("Ring keeps items in order across growth while some are already taken", { timeout: 20_000 }, () => {
    const ring = Ring.create(MIN_BYTES, 1 << 20, 0);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 37; i++) assert.equal(put(ring, next % 3 === 0 ? `s${next++}` : next++), DONE);
      for (let i = 0; i < 20; i++) {
        const v = get(ring);
        assert.equal(typeof v === "string" ? Number(v.slice(1)) : v, expected++);
      }
    }
    assert.ok(ring.capacity > MIN_BYTES);
  });
});

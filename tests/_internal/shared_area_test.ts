import assert from "node:assert/strict";
import { describe } from "node:test";
import { allocateIdent, exitCodeOf, isAlive, MAIN_IDENT, markExited } from "../../_internal/shared_area.ts";
import { test } from "../_helpers.ts";

describe("shared area", () => {
  test("allocateIdent() gives unique live idents and markExited() records the code once", () => {
    const a = allocateIdent(MAIN_IDENT);
    const b = allocateIdent(MAIN_IDENT);
    assert.notEqual(a, b);
    assert.equal(isAlive(a), true);
    assert.equal(exitCodeOf(a), null);
    markExited(a, 3);
    markExited(a, 4);
    assert.equal(isAlive(a), false);
    assert.equal(exitCodeOf(a), 3);
    markExited(b, 0);
  });

  test("isAlive() is false for a child whose parent has ended", () => {
    const parent = allocateIdent(MAIN_IDENT);
    const child = allocateIdent(parent);
    assert.equal(isAlive(child), true);
    markExited(parent, -15);
    assert.equal(isAlive(child), false);
  });

  test("allocateIdent() reuses slots of ended workers without reusing idents", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const id = allocateIdent(MAIN_IDENT);
      assert.ok(!seen.has(id));
      seen.add(id);
      markExited(id, 0);
    }
    assert.equal(isAlive(MAIN_IDENT), true);
  });
});

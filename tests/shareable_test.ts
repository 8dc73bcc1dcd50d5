import assert from "node:assert/strict";
import { describe } from "node:test";
import { decode, decodeSync, encode, isShareable } from "../_internal/shareable.ts";
import { test } from "./_helpers.ts";
import { Box } from "./testdata/box.ts";

describe("shareable protocol", () => {
  test("encode() leaves plain data untouched", () => {
    const args = [1, "two", { three: [3] }, new Uint8Array(2), new Map([[1, 2]]), null, undefined, 10n];
    const out = encode(args, "args");
    assert.equal(out.value, args, "no copy is made when nothing needs replacing");
    assert.equal(out.refs, undefined);
  });

  test("encode() replaces shareable objects anywhere in arrays and objects without touching the input", () => {
    const box = new Box();
    const args = [box, { deep: [{ box }] }];
    const out = encode(args, "args");
    assert.equal(args[0], box, "the caller's array is not modified");
    assert.deepEqual(out.refs?.map((r) => r.path), [[0], [1, "deep", 0, "box"]]);
    assert.equal(out.refs?.[0].shared.kind, "test.Box");
    const back = decodeSync(structuredClone(out)) as [Box, { deep: { box: Box }[] }];
    assert.ok(back[0] instanceof Box);
    box.raise(2, 99);
    assert.equal(Atomics.load(back[0].flags, 2), 99, "the revived object uses the same memory");
    assert.ok(back[1].deep[0].box instanceof Box);
  });

  test("encode() of a shareable object at the root revives it", async () => {
    const box = new Box();
    const back = await decode(encode(box, "value"));
    assert.ok(back instanceof Box);
    assert.ok(isShareable(back));
  });

  test("encode() names the path of a function, a symbol or a class instance", () => {
    assert.throws(
      () => encode([1, { cb: () => 1 }], "args"),
      /Cannot send args\[1\]\.cb to another thread: it is a function/,
    );
    assert.throws(() => encode({ "a b": Symbol("s") }, "args"), /args\["a b"\].*symbol/);
    class P {}
    assert.throws(() => encode([[new P()]], "initargs"), /initargs\[0\]\[0\].*class P/);
    assert.throws(() => encode([new WeakMap()], "args"), /WeakMap/);
    assert.throws(() => encode([new Map([["k", new Box()]])], "args"), /inside a Map or Set/);
  });

  test("encode() accepts cyclic plain data", () => {
    const a: Record<string, unknown> = { n: 1 };
    a.self = a;
    assert.equal(encode([a], "args").refs, undefined);
  });

  test("encode() keeps identity: an object reached twice or through a cycle arrives as one, its shareable live", {
    timeout: 20_000,
  }, () => {
    const box = new Box();
    const o: Record<string, unknown> = { box };
    const ring: Record<string, unknown> = { box };
    ring.self = ring;
    const back = decodeSync(structuredClone(encode([o, o, box, ring], "args"))) as [
      { box: Box },
      { box: Box },
      Box,
      { box: Box; self: { box: Box } },
    ];
    assert.equal(back[0], back[1], "the same object twice arrives as one object");
    assert.ok(back[1].box instanceof Box, "the second copy's Box is live, not {}");
    assert.equal(back[0].box, back[2], "the same shareable reached by two paths is revived once");
    assert.equal(back[3].self, back[3]);
    assert.equal(back[3].self.box, back[2]);
    box.raise(4, 5);
    assert.equal(Atomics.load(back[1].box.flags, 4), 5);
    assert.equal(o.box, box, "the caller's objects are not modified");
  });

  test("encode() refuses a shareable inside a Map reached through an object seen before", { timeout: 20_000 }, () => {
    const o = { box: new Box() };
    assert.throws(() => encode([o, new Map([[1, o]])], "args"), /args\[1\].*inside a Map or Set/);
  });

  test("decodeSync() refuses a kind no module registered", () => {
    const bad = { value: null, refs: [{ path: [], shared: { kind: "nope", module: "file:///nope.ts", state: null } }] };
    assert.throws(() => decodeSync(bad), /"nope"/);
  });
});

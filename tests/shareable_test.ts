import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decode, decodeSync, encode, isShareable } from "../_internal/shareable.ts";
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

  test("decodeSync() refuses a kind no module registered", () => {
    const bad = { value: null, refs: [{ path: [], shared: { kind: "nope", module: "file:///nope.ts", state: null } }] };
    assert.throws(() => decodeSync(bad), /"nope"/);
  });
});

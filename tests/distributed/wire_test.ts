// The distributed entry's encoding, module naming and command line, without Redis.
import assert from "node:assert/strict";
import { parseRedisAddress } from "../../distributed/_connection.ts";
import { jobModule, rootUrl, workerModule } from "../../distributed/_protocol.ts";
import { fromWire, toWire } from "../../distributed/_wire.ts";
import { parseWorkerArgs } from "../../distributed/_worker_args.ts";
import { RemoteError, TimeoutError } from "../../errors.ts";
import { Lock } from "../../sync/lock.ts";
import { test } from "../_helpers.ts";

function roundTrip<T>(value: T): T {
  // Through JSON text, as Redis stores it.
  return fromWire(JSON.parse(JSON.stringify(toWire(value, "value")))) as T;
}

test("toWire()/fromWire() keep what JSON alone would lose", () => {
  const value = {
    nothing: undefined,
    nums: [NaN, Infinity, -Infinity, -0, 1.5],
    big: -(2n ** 80n),
    date: new Date(86_400_000),
    re: /x\d+/m,
    map: new Map<unknown, unknown>([[{ k: 1 }, [1, 2]], ["s", null]]),
    set: new Set([1, "a"]),
    buffer: new Uint8Array([1, 2, 255]).buffer,
    view: new Int16Array([-1, 300]),
    sub: new Uint8Array([9, 8, 7, 6]).subarray(1, 3),
    data: new DataView(new Uint8Array([5, 6]).buffer),
    bigs: new BigInt64Array([-5n]),
    tag: ["a", "o", "u"],
  };
  const back = roundTrip(value);
  assert.deepEqual(back, value);
  assert.ok(Object.is(back.nums[3], -0));
  assert.deepEqual([...back.sub], [8, 7]);
  // An own "__proto__" key stays a key; it must not set the prototype.
  const proto = roundTrip(JSON.parse("{\"__proto__\": 1}"));
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.ok(Object.hasOwn(proto, "__proto__"));
});

test("toWire() keeps shared references and cycles", () => {
  const inner = { n: 1 };
  const cyclic: Record<string, unknown> = { inner, again: inner };
  cyclic.self = cyclic;
  const back = roundTrip(cyclic);
  assert.equal(back.self, back);
  assert.equal(back.inner, back.again);
});

test("toWire() carries errors with their class, fields, stack and cause", () => {
  const error = new TimeoutError("late", { cause: new TypeError("why") });
  const back = roundTrip(error);
  assert.ok(back instanceof TimeoutError);
  assert.equal(back.message, "late");
  assert.equal(back.stack, error.stack);
  assert.ok(back.cause instanceof TypeError);
  class Custom extends Error {
    constructor() {
      super("mine");
      this.name = "Custom";
    }
  }
  const custom = roundTrip(new Custom());
  assert.ok(custom instanceof RemoteError);
  assert.equal(custom.remoteName, "Custom");
});

test("toWire() refuses what cannot leave the machine, naming where it is", () => {
  const cases: [unknown, RegExp][] = [
    [[1, new SharedArrayBuffer(4)], /args\[1\] to another machine: a SharedArrayBuffer/],
    [[new Int32Array(new SharedArrayBuffer(4))], /args\[0\] .*view of a SharedArrayBuffer/],
    [[{ lock: new Lock() }], /args\[0\]\.lock .*shareable object/],
    [[{ f() {} }], /args\[0\]\.f .*function/],
    [[Symbol("s")], /args\[0\] .*symbol/],
    [[new (class Point {})()], /args\[0\] .*instance of class Point/],
    [[{ m: new Map([[1, () => 0]]) }], /args\[0\]\.m to another machine: it is a function/],
  ];
  for (const [value, message] of cases) assert.throws(() => toWire(value, "args"), { name: "TypeError", message });
  assert.throws(() => toWire([1, 2, () => 0], "iterable", 40), /iterable\[42\]/);
});

test("fromWire() refuses data it did not write", () => {
  assert.throws(() => fromWire(["?"]), /Cannot read a value sent by another machine/);
  assert.throws(() => fromWire(["r", 3]), TypeError);
});

test("jobModule() and workerModule() name modules by their path under each root", () => {
  const client = rootUrl("/home/a/project", "/", "test");
  assert.equal(client.href, "file:///home/a/project/");
  assert.equal(jobModule("file:///home/a/project/src/my%20tasks.ts", client, "f"), "src/my tasks.ts");
  assert.equal(jobModule("npm:some-tasks", client, "f"), "npm:some-tasks");
  assert.throws(() => jobModule("file:///home/b/tasks.ts", client, "f"), /is not under the executor's root/);
  assert.throws(() => jobModule("https://example.com/t.ts", client, "f"), TypeError);
  const worker = rootUrl("srv", "/opt", "test");
  assert.equal(worker.href, "file:///opt/srv/");
  assert.equal(workerModule("src/my tasks.ts", worker, "f"), "file:///opt/srv/src/my%20tasks.ts");
  assert.throws(() => workerModule("../etc/x.ts", worker, "f"), /not a path under the worker's root/);
  assert.throws(() => workerModule("/etc/x.ts", worker, "f"), /not a path under the worker's root/);
  assert.throws(() => workerModule("https://example.com/t.ts", worker, "f"), /not a path under/);
  assert.throws(() => rootUrl("https://example.com/", "/", "test"), TypeError);
});

test("parseWorkerArgs() reads the worker command line", () => {
  assert.deepEqual(
    parseWorkerArgs(["worker", "--redis", "redis://h:7000", "--queue", "q", "--concurrency=3", "--root", "x"]),
    { connection: { host: "h", port: 7000 }, queue: "q", concurrency: 3, root: "x" },
  );
  assert.deepEqual(parseRedisAddress("/tmp/r.sock"), { path: "/tmp/r.sock" });
  assert.deepEqual(parseRedisAddress("unix:///tmp/r.sock"), { path: "/tmp/r.sock" });
  assert.deepEqual(parseRedisAddress("6380"), { port: 6380 });
  assert.deepEqual(parseRedisAddress("localhost"), { host: "localhost", port: 6379 });
  assert.throws(() => parseWorkerArgs(["serve"]), /expected the command "worker"/);
  assert.throws(() => parseWorkerArgs(["worker", "--queue", "q"]), /--redis and --queue are required/);
  assert.throws(() => parseWorkerArgs(["worker", "--bogus", "1"]), /unknown argument "--bogus"/);
  assert.throws(() => parseWorkerArgs(["worker", "--concurrency", "two"]), /must be an integer/);
  assert.throws(() => parseWorkerArgs(["worker", "--queue"]), /--queue needs a value/);
});

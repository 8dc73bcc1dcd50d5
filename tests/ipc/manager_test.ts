import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BrokenBarrierError, EmptyError, FullError, InvalidStateError } from "../../errors.ts";
import { Manager } from "../../ipc/manager.ts";
import { Process, taskModule } from "../../process/mod.ts";
import { after, before, within } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/manager_tasks.ts")>(
  new URL("../testdata/manager_tasks.ts", import.meta.url),
);
const types = taskModule<typeof import("../testdata/manager_types.ts")>(
  new URL("../testdata/manager_types.ts", import.meta.url),
);
const LIMIT = 15_000;

async function run(...ps: Process[]): Promise<void> {
  for (const p of ps) p.start();
  for (const p of ps) await within(p.join(), LIMIT, `process ${p.name}`);
  for (const p of ps) assert.equal(p.exitCode, 0, `${p.name} failed: ${p.error?.stack}`);
}

describe("Manager", () => {
  // One server for the tests that do not end it: starting a worker costs ~0.5 s on Node.
  let m: Manager;
  before(async () => {
    m = await Manager.start();
  });
  after(async () => {
    await m.shutdown();
  });

  test("Manager dict and list proxies follow Python's methods, async and Sync", { timeout: 20_000 }, async () => {
    const d = await m.dict<string, number>({ a: 1 });
    await d.set("b", 2);
    d.setSync("c", 3);
    assert.equal(await d.get("a"), 1);
    assert.equal(d.getSync("zz", 9), 9);
    assert.equal(await d.has("b"), true);
    assert.deepEqual(await d.keys(), ["a", "b", "c"]);
    assert.deepEqual(await d.values(), [1, 2, 3]);
    assert.equal(await d.size(), 3);
    assert.equal(await d.pop("a"), 1);
    assert.equal(await d.pop("a", 7), 7);
    assert.equal(await d.setDefault("d", 4), 4);
    await d.update({ e: 5 });
    assert.deepEqual(await d.copy(), new Map([["b", 2], ["c", 3], ["d", 4], ["e", 5]]));
    const keys: string[] = [];
    for await (const k of d) keys.push(k);
    assert.deepEqual(keys, ["b", "c", "d", "e"]);
    assert.equal(await d.delete("b"), true);
    await d.clear();
    assert.equal(d.sizeSync(), 0);

    const l = await m.list([3, 1, 2]);
    await l.append(5);
    await l.extend([4]);
    await l.insert(0, 0);
    assert.equal(await l.get(-1), 4);
    assert.equal(await l.pop(), 4);
    await l.sort();
    assert.deepEqual(await l.toArray(), [0, 1, 2, 3, 5]);
    await l.sort({ reverse: true });
    assert.deepEqual(l.sliceSync(0, 2), [5, 3]);
    assert.equal(await l.index(3), 1);
    assert.equal(await l.count(2), 1);
    await l.remove(5);
    await l.reverse();
    assert.deepEqual(await l.toArray(), [0, 1, 2, 3]);
    assert.equal(l.lengthSync(), 4);
    const items: number[] = [];
    for await (const x of l) items.push(x);
    assert.deepEqual(items, [0, 1, 2, 3]);
  });

  test(
    "Manager values larger than a channel ring cross whole, both ways, async and Sync",
    { timeout: 20_000 },
    async () => {
      const d = await m.dict<string, unknown>();
      const big = "x".repeat(300_000) + "é";
      const numbers = Array.from({ length: 50_000 }, (_, i) => i * 1.5);
      await Promise.all([
        d.set("big", big),
        d.set("numbers", numbers),
        d.set("bytes", new Uint8Array(100_000).fill(7)),
      ]);
      assert.equal(await d.get("big"), big);
      assert.deepEqual(d.getSync("numbers"), numbers);
      const bytes = await d.get("bytes") as Uint8Array;
      assert.equal(bytes.length, 100_000);
      assert.equal(bytes[99_999], 7);
      d.setSync("big2", big + big);
      assert.equal(((await d.get("big2")) as string).length, 2 * big.length);
    },
  );

  test("Manager Namespace, Value and Array proxies hold their values", { timeout: 20_000 }, async () => {
    const ns = await m.Namespace({ x: 1 });
    await ns.set("y", "two");
    assert.equal(await ns.get("x"), 1);
    assert.deepEqual(await ns.toObject(), { x: 1, y: "two" });
    assert.equal(await ns.delete("x"), true);
    assert.equal(await ns.has("x"), false);
    const v = await m.Value("d", 1.5);
    await v.set(2.5);
    assert.equal(v.getSync(), 2.5);
    const a = await m.Array("h", [1, 40000]);
    assert.deepEqual(await a.toArray(), [1, -25536]);
    await a.set(0, 7);
    assert.equal(await a.get(0), 7);
    assert.equal(await a.length(), 2);
    const q = await m.Array<bigint>("q", [1n]);
    assert.deepEqual(await q.toArray(), [1n]);
  });

  test("Manager every proxy type works from a child process", { timeout: 20_000 }, async () => {
    const out = await m.dict<string, unknown>();
    const p = {
      list: await m.list([1, 2, 3]),
      ns: await m.Namespace({ parent: "hello" }),
      value: await m.Value("i", 21),
      array: await m.Array("B", [1, 2]),
      queue: await m.Queue<string>(),
      jq: await m.JoinableQueue<string>(),
      lock: await m.Lock(),
      rlock: await m.RLock(),
      sem: await m.Semaphore(1),
      bsem: await m.BoundedSemaphore(1),
      cond: await m.Condition(),
      event: await m.Event(),
      barrier: await m.Barrier(2),
    };
    await p.queue.put("to child");
    await p.jq.put("job");
    const child = new Process({ target: tasks.everyType, args: [out, p] });
    child.start();
    await within(p.jq.join(), LIMIT, "JoinableQueue.join()");
    {
      await using _ = await p.cond.hold();
      assert.equal(await p.cond.waitFor(async () => await out.get("ready") === true, LIMIT), true);
    }
    await p.event.set();
    assert.equal(typeof await p.barrier.wait(LIMIT), "number");
    await within(child.join(), LIMIT, "child");
    assert.equal(child.exitCode, 0, String(child.error?.stack));
    assert.equal(await p.queue.get({ timeout: LIMIT }), "from child");
    assert.deepEqual(await p.list.toArray(), [1, 2, 3, 4]);
    assert.equal(await p.ns.get("child"), "yes");
    assert.equal(await p.value.get(), 42);
    assert.deepEqual(Object.fromEntries(await out.items()), {
      list: [1, 2, 3, 4],
      ns: "hello",
      array: [44, 2],
      queue: "to child",
      jq: "job",
      lock: true,
      rlock: true,
      sem: true,
      bsem: "RangeError",
      ready: true,
      event: true,
      barrier: "number",
    });
  });

  test("Manager dict shared by 4 workers under a manager Lock gets exact totals", { timeout: 30_000 }, async () => {
    const d = await m.dict<string, number>();
    const lock = await m.Lock();
    const n = 300;
    await run(
      new Process({ target: tasks.countSync, args: [d, lock, "sync", n] }),
      new Process({ target: tasks.countSync, args: [d, lock, "sync", n] }),
      new Process({ target: tasks.countAsync, args: [d, lock, "async", n] }),
      new Process({ target: tasks.countAsync, args: [d, lock, "async", n] }),
    );
    assert.deepEqual(Object.fromEntries(await d.items()), { sync: 2 * n, async: 2 * n });
  });

  test("Manager nested proxies: a dict of lists reaches a child as live proxies", { timeout: 20_000 }, async () => {
    const d = await m.dict<string, Awaited<ReturnType<typeof m.list<string>>>>();
    const inner = await m.list<string>(["a"]);
    await d.set("letters", inner);
    await run(new Process({ target: tasks.appendNested, args: [d, "letters", "b"] }));
    assert.deepEqual(await inner.toArray(), ["a", "b"]);
    const again = await d.get("letters");
    assert.deepEqual(await again!.toArray(), ["a", "b"]);
    const l = await m.list<unknown>([inner]);
    await l.append(d);
    const [first, second] = await l.toArray() as [typeof inner, typeof d];
    assert.deepEqual(await first.toArray(), ["a", "b"]);
    assert.equal(await second.has("letters"), true);
  });

  test("Manager an error raised in the manager arrives with its class; the proxy stays usable", {
    timeout: 20_000,
  }, async () => {
    const d = await m.dict<string, number>();
    await assert.rejects(d.pop("missing"), {
      name: "RangeError",
      message: "Cannot pop key \"missing\": it is not in the dict",
    });
    assert.throws(() => d.popSync("missing"), RangeError);
    await assert.rejects(d.set({} as never, 1), TypeError);
    await assert.rejects(d.set("f", (() => 1) as never), /Cannot send args\[1\] to the manager: it is a function/);
    const q = await m.Queue<number>({ maxsize: 1 });
    await assert.rejects(q.getNowait(), EmptyError);
    await q.put(1);
    await assert.rejects(q.put(2, { block: false }), (e: unknown) => e instanceof FullError && e.value === 2);
    assert.throws(() => q.putSync(3, { timeout: 10 }), (e: unknown) => e instanceof FullError && e.value === 3);
    const s = await m.BoundedSemaphore(1);
    await assert.rejects(s.release(), RangeError);
    const lock = await m.Lock();
    await assert.rejects(lock.release(), InvalidStateError);
    const b = await m.Barrier(2);
    await b.abort();
    await assert.rejects(b.wait(), BrokenBarrierError);
    await d.set("ok", 1);
    assert.equal(await d.get("ok"), 1);
  });

  test("Manager waits time out, and an aborted wait rejects with the signal reason and loses nothing", {
    timeout: 20_000,
  }, async () => {
    const q = await m.Queue<string>();
    await assert.rejects(q.get({ timeout: 30 }), EmptyError);
    assert.throws(() => q.getSync({ timeout: 30 }), EmptyError);
    const lock = await m.Lock();
    await lock.acquire();
    assert.equal(await lock.acquire({ timeout: 30 }), false);
    assert.equal(lock.acquireSync({ blocking: false }), false);
    const e = await m.Event();
    assert.equal(await e.wait(30), false);
    const ac = new AbortController();
    const pending = q.get({ signal: ac.signal });
    ac.abort(new Error("stop"));
    await assert.rejects(pending, { message: "stop" });
    await q.put("kept");
    assert.equal(await q.get({ timeout: 1000 }), "kept");
    await assert.rejects(q.get({ timeout: -1 }), RangeError);
  });

  test("Manager queue close() ends iteration after the last item and refuses puts", { timeout: 20_000 }, async () => {
    const q = await m.Queue<number>();
    const seen: number[] = [];
    const reading = (async () => {
      for await (const x of q) seen.push(x);
    })();
    await q.put(1);
    await q.put(2);
    const waiting = q.get().then(() => null, (e: unknown) => e);
    await q.put(3);
    await q.close();
    await within(reading, LIMIT, "iteration");
    assert.equal(seen.length + (await waiting === null ? 1 : 0), 3);
    await assert.rejects(q.put(4), InvalidStateError);
    await assert.rejects(q.get(), InvalidStateError);
    assert.equal(await q.closed(), true);
  });

  test("Manager a blocking call does not block other clients", { timeout: 20_000 }, async () => {
    const q = await m.Queue<string>();
    const out = await m.dict<string, unknown>();
    const waiting = q.get({ timeout: LIMIT });
    const child = new Process({ target: tasks.blockOnQueue, args: [q, out] });
    child.start();
    await out.set("x", 1);
    assert.equal(await out.get("x"), 1);
    await q.put("one");
    await q.put("two");
    assert.ok(["one", "two"].includes(await waiting));
    await within(child.join(), LIMIT, "child");
    assert.equal(child.exitCode, 0);
  });

  test("Manager a lock held by a worker that ends is released", { timeout: 20_000 }, async () => {
    const lock = await m.Lock();
    const started = await m.Event();
    const never = await m.Event();
    const child = new Process({ target: tasks.holdAndWait, args: [lock, started, never] });
    child.start();
    assert.equal(await started.wait(LIMIT), true);
    assert.equal(await lock.locked(), true);
    child.terminate();
    await within(child.join(), LIMIT, "child");
    assert.equal(await lock.acquire({ timeout: LIMIT }), true);
  });

  test("Manager.shutdown() makes later calls fail at once and ends blocked ones", { timeout: 20_000 }, async () => {
    const m = await Manager.start();
    const d = await m.dict();
    const q = await m.Queue<string>();
    const out = await m.dict<string, unknown>();
    const child = new Process({ target: tasks.blockOnQueue, args: [q, out] });
    child.start();
    while (await out.get("blocked") !== true) await new Promise((resolve) => setTimeout(resolve, 5));
    const waiting = q.get().then(() => null, (e: unknown) => e);
    await d.set("x", 1);
    await m.shutdown();
    assert.ok(await within(waiting, LIMIT, "blocked get") instanceof InvalidStateError);
    await within(child.join(), LIMIT, "child");
    assert.equal(child.exitCode, 1);
    const started = performance.now();
    await assert.rejects(d.get("x"), {
      name: "InvalidStateError",
      message: "Cannot call get(): the manager was shut down",
    });
    assert.throws(() => d.getSync("x"), InvalidStateError);
    await assert.rejects(m.dict(), InvalidStateError);
    assert.ok(performance.now() - started < 1000);
    await m.shutdown();
  });

  test(
    "Manager.register() serves a user type with its public methods, also in a child",
    { timeout: 20_000 },
    async () => {
      const m = new Manager();
      m.register("Counter", types.makeCounter);
      await m.start();
      try {
        const c = await m.create<import("../testdata/manager_types.ts").Counter>("Counter", 10);
        assert.equal(await c.increment(2), 12);
        assert.equal(c.valueSync(), 12);
        assert.equal(await c.later(1), 12);
        await assert.rejects(c.fail(), { name: "RangeError", message: "counter at 12 refuses" });
        assert.equal((c as unknown as { _hidden?: unknown })._hidden, undefined);
        await run(new Process({ target: tasks.bump, args: [c, 5] }));
        assert.equal(await c.value(), 17);
        await assert.rejects(m.create("Nope"), /Cannot make a "Nope": the manager has no such type/);
      } finally {
        await m.shutdown();
      }
    },
  );
});

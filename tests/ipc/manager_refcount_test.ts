import assert from "node:assert/strict";
import { describe } from "node:test";
import { InvalidStateError } from "../../errors.ts";
import { type BaseManager, type DictProxy, Manager, type ManagerStats } from "../../ipc/manager.ts";
import { Process, taskModule } from "../../process/mod.ts";
import { Event } from "../../sync/event.ts";
import { test, within } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/manager_refcount_tasks.ts")>(
  new URL("../testdata/manager_refcount_tasks.ts", import.meta.url),
);
const LIMIT = 15_000;

/** Collect garbage now, on every runtime (V8's gc() made callable, or Bun's own). */
async function collectGarbage(): Promise<void> {
  const bun = (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun;
  if (bun !== undefined) return bun.gc(true);
  const v8 = await import("node:v8");
  const vm = await import("node:vm");
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}

/** Ask `m` for its stats until `want` holds; fails after `ms`. */
async function statsUntil(m: BaseManager, want: (s: ManagerStats) => boolean, ms: number, what: string) {
  const deadline = performance.now() + ms;
  for (;;) {
    const s = await m.stats();
    if (want(s)) return s;
    if (performance.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms: ${JSON.stringify(s)}`);
    await collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("Manager reference counting", () => {
  test("a disposed proxy gives back its reference and the object is freed", { timeout: 20_000 }, async () => {
    await using m = await Manager.start();
    assert.deepEqual(await m.stats(), { objects: 0, references: 0 });
    const d = await m.dict({ a: 1 });
    const q = await m.Queue();
    assert.deepEqual(await m.stats(), { objects: 2, references: 2 });
    d[Symbol.dispose]();
    d[Symbol.dispose]();
    assert.deepEqual(await m.stats(), { objects: 1, references: 1 });
    await assert.rejects(d.get("a"), { name: "InvalidStateError", message: /dict proxy: it was disposed/ });
    assert.throws(() => d.getSync("a"), InvalidStateError);
    await assert.rejects(q.put(d), { name: "InvalidStateError", message: /Cannot send a dict proxy: it was disposed/ });
    {
      using l = await m.list([1]);
      assert.equal(await l.length(), 1);
    }
    assert.deepEqual(await m.stats(), { objects: 1, references: 1 });
  });

  test("an object stored in another lives on after its proxies go", { timeout: 20_000 }, async () => {
    await using m = await Manager.start();
    const d = await m.dict<string, unknown>();
    const inner = await m.list<number>([1, 2]);
    await d.set("inner", inner);
    const again = await d.get("inner") as typeof inner;
    assert.deepEqual(await m.stats(), { objects: 2, references: 3 });
    inner[Symbol.dispose]();
    again[Symbol.dispose]();
    // Only the dict holds the list now: it is out of the table, not gone.
    assert.deepEqual(await m.stats(), { objects: 1, references: 1 });
    const back = await d.get("inner") as typeof inner;
    await back.append(3);
    assert.deepEqual(await back.toArray(), [1, 2, 3]);
    assert.deepEqual(await m.stats(), { objects: 2, references: 2 });
  });

  test("a proxy that is collected gives back its reference", { timeout: 20_000 }, async () => {
    await using m = await Manager.start();
    await (async () => {
      const d = await m.dict({ gone: true });
      assert.equal(await d.get("gone"), true);
    })();
    await statsUntil(m, (s) => s.objects === 0 && s.references === 0, LIMIT, "freeing a collected proxy's object");
  });

  test("a proxy passed to a child keeps its object alive while the child holds it", { timeout: 20_000 }, async () => {
    await using m = await Manager.start();
    const d = await m.dict<string, unknown>();
    const held = new Event();
    const go = new Event();
    const child = new Process({ target: tasks.holdThenWrite, args: [d, held, go] });
    child.start();
    assert.equal(await held.wait(LIMIT), true);
    // The parent lets go at once: the reference it lent with the copy keeps the dict.
    d[Symbol.dispose]();
    assert.deepEqual(await m.stats(), { objects: 1, references: 1 });
    go.set();
    await within(child.join(), LIMIT, "child");
    assert.equal(child.exitCode, 0, String(child.error?.stack));
    // The child's thread ended: the manager gives back what it held.
    await statsUntil(m, (s) => s.objects === 0, LIMIT, "freeing the dict after the child ended");
  });

  test("a proxy passed to an OS child keeps its object alive until the child ends", { timeout: 30_000 }, async () => {
    await using m = await Manager.start({ address: { host: "127.0.0.1", port: 0 } });
    // The gates live in another manager, so that the counts below are the dict's alone.
    await using gates = await Manager.start({ address: { host: "127.0.0.1", port: 0 } });
    const d = await m.dict<string, unknown>();
    const held = await gates.Event();
    const go = await gates.Event();
    const child = new Process({ target: tasks.holdThenWriteRemote, args: [d, held, go], startMethod: "process" });
    child.start();
    assert.equal(await held.wait(LIMIT), true);
    d[Symbol.dispose]();
    assert.deepEqual(await m.stats(), { objects: 1, references: 1 });
    await go.set();
    await within(child.join(), LIMIT, "child");
    assert.equal(child.exitCode, 0, String(child.error?.stack));
    await statsUntil(m, (s) => s.objects === 0, LIMIT, "freeing the dict after the OS child ended");
  });

  test("a remote client's references go when it disconnects", { timeout: 20_000 }, async () => {
    await using server = await Manager.start({ address: { port: 0 }, authkey: "refs" });
    const client = new Manager({ address: server.address!, authkey: "refs" });
    await client.connect();
    const d = await client.dict() as DictProxy<string, number>;
    const e = await client.dict() as DictProxy<string, number>;
    await d.set("x", 1);
    assert.deepEqual(await client.stats(), { objects: 2, references: 2 });
    d[Symbol.dispose]();
    assert.deepEqual(await client.stats(), { objects: 1, references: 1 });
    await e.set("y", 2);
    await client.shutdown();
    await statsUntil(server, (s) => s.objects === 0, LIMIT, "freeing a remote client's objects");
  });
});

import assert from "node:assert/strict";
import { describe } from "node:test";
import { runtime } from "../../_runtime/mod.ts";
import type { WorkerHandle } from "../../_runtime/mod.ts";
import { test, within } from "../_helpers.ts";

const ECHO = new URL("../testdata/echo_worker.ts", import.meta.url).href;

function start(
  data: unknown,
  inbox = false,
): { handle: WorkerHandle; messages: unknown[]; next: () => Promise<unknown>; exit: Promise<number> } {
  const handle = runtime.spawn({ entry: ECHO, data, daemon: true, name: "echo", inbox });
  const messages: unknown[] = [];
  const waiters: ((m: unknown) => void)[] = [];
  handle.onMessage((m) => (waiters.shift() ?? ((x) => messages.push(x)))(m));
  handle.onError(() => {});
  const exit = new Promise<number>((resolve) => handle.onExit(resolve));
  const next = () => messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise((r) => waiters.push(r));
  return { handle, messages, next, exit };
}

describe("runtime", () => {
  test("runtime names one of node, deno, bun and reports versions", () => {
    assert.ok(["node", "deno", "bun"].includes(runtime.name));
    assert.ok(Object.keys(runtime.versions).length > 0);
    assert.equal(runtime.isMainThread, true);
    assert.equal(typeof runtime.canBlock, "boolean");
    assert.ok(Number.isInteger(runtime.cpuCount()) && runtime.cpuCount() >= 1);
  });

  test("runtime.spawn() starts a TypeScript module and passes its data", async () => {
    const sab = new SharedArrayBuffer(8);
    const w = start({ n: 1, sab });
    const hello = await within(w.next(), 20_000, "hello") as {
      hello: { n: number; sab: SharedArrayBuffer };
      isMain: boolean;
    };
    assert.equal(hello.hello.n, 1);
    assert.ok(hello.hello.sab instanceof SharedArrayBuffer, "a SharedArrayBuffer arrives shared");
    assert.equal(hello.isMain, false);
    w.handle.post({ cmd: "exit", code: 5 });
    assert.equal(await within(w.exit, 20_000, "exit"), 5);
  });

  test("WorkerHandle.post() moves transferred buffers", async () => {
    const w = start(null);
    await within(w.next(), 20_000, "hello");
    const bytes = new ArrayBuffer(1024);
    w.handle.post({ cmd: "bytes", bytes }, [bytes]);
    assert.equal(bytes.byteLength, 0, "the buffer was moved, not copied");
    assert.deepEqual(await within(w.next(), 20_000, "reply"), { length: 1024 });
    await w.handle.terminate();
    await within(w.exit, 20_000, "exit");
  });

  test("WorkerHandle reports exit code 1 after an uncaught error", async () => {
    const w = start(null);
    await within(w.next(), 20_000, "hello");
    w.handle.post({ cmd: "throw" });
    assert.equal(await within(w.exit, 20_000, "exit"), 1);
  });

  test("WorkerHandle.terminate() stops a worker blocked in Atomics.wait", async () => {
    const w = start(null);
    await within(w.next(), 20_000, "hello");
    w.handle.post({ cmd: "block" });
    await within(w.handle.terminate(), 20_000, "terminate");
    await within(w.exit, 20_000, "exit");
  });

  test("ParentPort.receive() takes a message synchronously from a worker's inbox", async () => {
    const w = start(null, true);
    const hello = await within(w.next(), 20_000, "hello") as { pollable: boolean };
    // Node and Bun poll a worker's inbox with receiveMessageOnPort; Deno has no such call.
    assert.equal(hello.pollable, { node: true, bun: true, deno: false }[runtime.name]);
    if (hello.pollable) {
      w.handle.post({ cmd: "poll" });
      w.handle.post({ cmd: "second" });
      assert.deepEqual(await within(w.next(), 20_000, "polled"), { polled: { cmd: "second" } });
    } else {
      // Deno: no pollable inbox (see _runtime/deno.ts); receive() finds nothing.
      w.handle.post({ cmd: "poll" });
      assert.deepEqual(await within(w.next(), 20_000, "polled"), { polled: null });
    }
    await w.handle.terminate();
  });

  test("ParentPort.receive() finds nothing without an inbox", async () => {
    const w = start(null);
    const hello = await within(w.next(), 20_000, "hello") as { pollable: boolean };
    assert.equal(hello.pollable, false);
    await w.handle.terminate();
  });
});

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as net from "node:net";
import process from "node:process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { runtime } from "../../_runtime/mod.ts";
import { AuthenticationError, InvalidStateError } from "../../errors.ts";
import { MessageDecoder, MessageEncoder, OK } from "../../ipc/_manager_codec.ts";
import { connectTcp } from "../../ipc/_manager_tcp.ts";
import { BaseManager, type DictProxy, Manager } from "../../ipc/manager.ts";
import { Process, taskModule } from "../../process/mod.ts";
import { within } from "../_helpers.ts";

const types = taskModule<typeof import("../testdata/manager_types.ts")>(
  new URL("../testdata/manager_types.ts", import.meta.url),
);
const remoteTasks = taskModule<typeof import("../testdata/manager_remote_tasks.ts")>(
  new URL("../testdata/manager_remote_tasks.ts", import.meta.url),
);
const CLIENT = fileURLToPath(new URL("../testdata/manager_remote_client.ts", import.meta.url));
const LIMIT = 15_000;
const KEY = "test key";

/** Run the client script in a new OS process of this runtime; resolve with what it printed. */
function runClient(args: string[]): Promise<Record<string, unknown>> {
  const pre = runtime.name === "node" ? ["--import", "tsx"] : runtime.name === "deno" ? ["run", "-A"] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...pre, CLIENT, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), LIMIT);
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!));
      } catch {
        reject(new Error(`The client exited with ${code} and printed ${JSON.stringify(out)}`));
      }
    });
  });
}

async function served(): Promise<BaseManager> {
  const m = new BaseManager({ address: { port: 0 }, authkey: KEY });
  m.register("shared", types.sharedDict);
  return await m.start();
}

const noHooks = { toToken: () => undefined, fromToken: () => null };

describe("BaseManager over TCP", () => {
  test("BaseManager a client in another OS process with the right key shares a dict", { timeout: 30_000 }, async () => {
    await using m = await served();
    const d = await m.create("shared") as unknown as DictProxy<string, unknown>;
    await d.set("parent", "hello");
    const [a, b] = await Promise.all([
      runClient([String(m.address!.port), KEY, "first"]),
      runClient([String(m.address!.port), KEY, "second"]),
    ]);
    assert.deepEqual(a, { ok: true, seen: "hello", syncError: "TypeError" });
    assert.deepEqual(b, { ok: true, seen: "hello", syncError: "TypeError" });
    assert.equal(typeof await d.get("first"), "number");
    assert.equal(typeof await d.get("second"), "number");
  });

  test("BaseManager a client with a wrong key is refused with AuthenticationError", { timeout: 30_000 }, async () => {
    await using m = await served();
    const out = await runClient([String(m.address!.port), "wrong key", "x"]);
    assert.equal(out.ok, false);
    assert.equal(out.name, "AuthenticationError");
    const here = new BaseManager({ address: m.address!, authkey: "also wrong" });
    await assert.rejects(here.connect(), AuthenticationError);
    const d = await m.create("shared") as unknown as DictProxy<string, unknown>;
    assert.equal(await d.has("x"), false);
  });

  test("BaseManager a garbage frame closes only its own connection", { timeout: 20_000 }, async () => {
    await using m = await served();
    const client = new Manager({ address: m.address!, authkey: KEY });
    await client.connect();
    const d = await client.dict<string, number>();
    const closed = new Promise<void>((resolve) => {
      const raw = net.connect(m.address!.port, "127.0.0.1", () => raw.write(new Uint8Array(64).fill(0xff)));
      raw.on("error", () => {});
      raw.resume();
      raw.on("close", () => resolve());
    });
    await within(closed, LIMIT, "the garbage connection to close");
    // A client that authenticated and then sends garbage is closed too; the others go on.
    const { socket } = await connectTcp({
      host: "127.0.0.1",
      port: m.address!.port,
      authkey: new TextEncoder().encode(KEY),
    });
    const gone = new Promise<void>((resolve) => socket.onClose(resolve));
    socket.write(Uint8Array.of(5, 0, 0, 0, 99, 1, 2, 3, 4));
    await within(gone, LIMIT, "the bad client to be closed");
    await d.set("still", 1);
    assert.equal(await d.get("still"), 1);
    await client.shutdown();
  });

  test("BaseManager serves 50 clients at once, and one that leaves mid-call", { timeout: 30_000 }, async () => {
    await using m = await Manager.start({ address: { port: 0 }, authkey: KEY });
    const q = await m.Queue<string>();
    const authkey = new TextEncoder().encode(KEY);
    const encoder = new MessageEncoder(noHooks);
    const decoder = new MessageDecoder(noHooks);
    const ask = async () => {
      const { socket, frames } = await connectTcp({ host: "127.0.0.1", port: m.address!.port, authkey });
      const answer = new Promise<unknown>((resolve) => {
        frames.handTo((frame, length) => {
          const msg = decoder.decode(frame, length);
          resolve(msg.kind === OK ? msg.value : "error");
        });
      });
      socket.write(encoder.request(1, 0, "ping", []));
      const value = await answer;
      socket.close();
      return value;
    };
    const answers = await within(Promise.all(Array.from({ length: 50 }, ask)), LIMIT, "50 clients");
    assert.equal(answers.length, 50);
    assert.equal(new Set(answers).size, 1);
    assert.equal(typeof answers[0], "string");

    // A client asks for an item (object 1 is the queue) and leaves before it comes: the
    // item is not lost to it.
    const { socket } = await connectTcp({ host: "127.0.0.1", port: m.address!.port, authkey });
    socket.write(encoder.request(1, 1, "get", [{}]));
    socket.close();
    const client = new Manager({ address: m.address!, authkey: KEY });
    await client.connect();
    const d = await client.dict();
    await d.set("alive", true);
    assert.equal(await d.get("alive"), true);
    await q.put("kept");
    assert.equal(await q.get({ timeout: LIMIT }), "kept");
    await client.shutdown();
  });

  test("BaseManager proxies of a remote manager pass to a worker thread", { timeout: 20_000 }, async () => {
    await using m = await served();
    const client = new BaseManager({ address: m.address!, authkey: KEY });
    client.register("shared");
    await client.connect();
    const d = await client.create("shared") as unknown as DictProxy<string, unknown>;
    assert.throws(() => d.getSync("x"), /use await shared.get\(\) instead|use await/);
    const p = new Process({ target: remoteTasks.setRemote, args: [d, "from thread", 7] });
    p.start();
    await within(p.join(), LIMIT, "child");
    assert.equal(p.exitCode, 0, String(p.error?.stack));
    assert.equal(await d.get("from thread"), 7);
    await client.shutdown();
    await assert.rejects(d.get("x"), InvalidStateError);
  });

  test("BaseManager.serveForever() serves from this thread until shutdown()", { timeout: 20_000 }, async () => {
    const server = new BaseManager({ address: { port: 0 }, authkey: KEY });
    const serving = server.serveForever();
    while (server.address!.port === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const client = new Manager({ address: server.address!, authkey: KEY });
    await client.connect();
    const l = await client.list([1]);
    await l.append(2);
    assert.deepEqual(await l.toArray(), [1, 2]);
    await server.shutdown();
    await within(serving, LIMIT, "serveForever()");
    await assert.rejects(within(l.append(3), LIMIT, "a call after shutdown"), InvalidStateError);
    await client.shutdown();
  });

  test("BaseManager refuses to listen beyond loopback without an authkey", { timeout: 5_000 }, () => {
    assert.throws(() => new BaseManager({ address: { host: "0.0.0.0", port: 0 } }), TypeError);
  });
});

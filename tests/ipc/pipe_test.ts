import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BufferTooShortError, EOFError, InvalidStateError, TimeoutError } from "../../errors.ts";
import { Connection } from "../../ipc/connection.ts";
import { Pipe } from "../../ipc/pipe.ts";
import { Queue } from "../../ipc/queue.ts";
import { wait, waitSync } from "../../ipc/wait.ts";
import { Process, taskModule } from "../../process/mod.ts";
import { within } from "../_helpers.ts";
import { LIMIT } from "../sync/_sync_helpers.ts";
import { pattern } from "../testdata/ipc_tasks.ts";

const tasks = taskModule<typeof import("../testdata/ipc_tasks.ts")>(
  new URL("../testdata/ipc_tasks.ts", import.meta.url),
);

describe("Pipe", () => {
  test("Pipe() ends send and receive both ways in one thread", { timeout: 20_000 }, async () => {
    const [a, b] = Pipe<unknown>();
    assert.ok(a instanceof Connection);
    assert.equal(a.readable && a.writable && b.readable && b.writable, true);
    await a.send({ x: 1 });
    b.sendSync("back");
    assert.deepEqual(await b.recv(), { x: 1 });
    assert.equal(a.recvSync(), "back");
    a.close();
    b.close();
  });

  test("Pipe({ duplex: false }) gives a reader and a writer", { timeout: 20_000 }, async () => {
    const [reader, writer] = Pipe<number>({ duplex: false });
    assert.deepEqual([reader.readable, reader.writable, writer.readable, writer.writable], [true, false, false, true]);
    await assert.rejects(reader.send(1), { name: "InvalidStateError", message: /read-only/ });
    await assert.rejects(writer.recv(), { name: "InvalidStateError", message: /write-only/ });
    writer.sendSync(5);
    assert.equal(await reader.recv(), 5);
  });

  test("Pipe carries messages both ways with a worker", { timeout: 60_000 }, async () => {
    const [mine, theirs] = Pipe<number | null>();
    const p = new Process({ target: tasks.pipeEcho, args: [theirs] });
    p.start();
    theirs.close(); // Python's idiom: the child holds its own handle
    for (let i = 0; i < 1000; i++) {
      await mine.send(i);
      assert.equal(await within(mine.recv(), LIMIT, "echo"), i * 2);
    }
    await mine.send(null);
    await within(p.join(), LIMIT, "echo worker");
    assert.equal(p.exitCode, 0);
    await assert.rejects(mine.recv({ timeout: 2000 }), EOFError);
  });

  test(
    "Connection.recv() gets EOFError once the writer's thread ended without closing",
    { timeout: 60_000 },
    async () => {
      const [reader, writer] = Pipe<number>({ duplex: false });
      const p = new Process({ target: tasks.sendThenExit, args: [writer, 3] });
      p.start();
      writer.close();
      assert.deepEqual([await reader.recv(), await reader.recv(), await reader.recv()], [0, 1, 2]);
      await assert.rejects(within(reader.recv(), LIMIT, "recv at EOF"), EOFError);
      assert.throws(() => reader.recvSync(), EOFError);
      await within(p.join(), LIMIT, "writer");
    },
  );

  test("Connection.close() by the other end ends a waiting recv, and sends fail", { timeout: 20_000 }, async () => {
    const [a, b] = Pipe<number>();
    const pending = a.recv();
    setTimeout(() => b.close(), 10);
    await assert.rejects(within(pending, 2000, "recv"), EOFError);
    await assert.rejects(a.send(1, { timeout: 1000 }), EOFError);
    assert.equal(b.closed, true);
    await assert.rejects(b.recv(), { name: "InvalidStateError", message: /closed/ });
    b.close(); // idempotent
  });

  test("Connection with using closes its handle", { timeout: 20_000 }, async () => {
    const [a, b] = Pipe<number>();
    {
      using _b = b;
      b.sendSync(1);
    }
    assert.equal(b.closed, true);
    assert.equal(await a.recv(), 1);
    await assert.rejects(a.recv(), EOFError);
  });

  test("Connection carries a 16 MiB byte message from a worker intact", { timeout: 60_000 }, async () => {
    const [reader, writer] = Pipe<unknown>({ duplex: false });
    const size = 16 * 1024 * 1024;
    const p = new Process({ target: tasks.sendPattern, args: [writer, size] });
    p.start();
    writer.close();
    const got = await within(reader.recvBytes(), LIMIT, "16 MiB message");
    assert.equal(got.length, size);
    assert.deepEqual(got, pattern(size));
    await within(p.join(), LIMIT, "sender");
    await assert.rejects(reader.recvBytes(), EOFError);
  });

  test("Connection.recvBytes(maxlength) refuses a longer message and keeps it", { timeout: 20_000 }, async () => {
    const [a, b] = Pipe<unknown>();
    await a.sendBytes(new Uint8Array([1, 2, 3, 4, 5]), 1, 3);
    await assert.rejects(b.recvBytes(2), { name: "RangeError", message: /3 bytes, longer than maxlength 2/ });
    assert.throws(() => b.recvBytesSync(2), RangeError);
    assert.deepEqual(await b.recvBytes(3), new Uint8Array([2, 3, 4]));
    // The same for a message in pieces, larger than the pipe's buffer.
    const big = pattern(200_000);
    const sending = a.sendBytes(big);
    await assert.rejects(b.recvBytes(1000), RangeError);
    assert.deepEqual(await b.recvBytes(), big);
    await sending;
    await a.send("not bytes");
    await assert.rejects(b.recvBytes(), { name: "TypeError", message: /not bytes/ });
    assert.equal(await b.recv(), "not bytes");
    await assert.rejects(a.sendBytes(new Uint8Array(4), 5), RangeError);
    await assert.rejects(a.sendBytes(new Uint8Array(4), 1, 4), RangeError);
  });

  test("Connection.recvBytesInto() fills a buffer, or gives the whole message in BufferTooShortError", {
    timeout: 20_000,
  }, async () => {
    const [a, b] = Pipe<unknown>();
    const buf = new Uint8Array(8);
    await a.sendBytes(new Uint8Array([1, 2, 3]));
    assert.equal(await b.recvBytesInto(buf, 2), 3);
    assert.deepEqual(buf, new Uint8Array([0, 0, 1, 2, 3, 0, 0, 0]));
    a.sendBytesSync(new Uint8Array(10).fill(7));
    assert.throws(
      () => b.recvBytesIntoSync(buf),
      (e) => e instanceof BufferTooShortError && e.data.length === 10 && e.data[9] === 7,
    );
  });

  test(
    "Connection.poll() tells whether a message waits, and waits up to its timeout",
    { timeout: 20_000 },
    async () => {
      const [a, b] = Pipe<number>();
      assert.equal(await a.poll(), false);
      assert.equal(a.pollSync(), false);
      const started = performance.now();
      assert.equal(await a.poll(40), false);
      assert.ok(performance.now() - started >= 35);
      setTimeout(() => b.sendSync(1), 10);
      assert.equal(await within(a.poll(Infinity), LIMIT, "poll"), true);
      assert.equal(a.pollSync(), true);
      assert.equal(await a.recv(), 1);
      await assert.rejects(a.poll(-1), RangeError);
      assert.throws(() => a.pollSync(NaN), RangeError);
      b.close();
      assert.equal(await a.poll(), true); // the end is readable: recv would not wait
    },
  );

  test("Connection rejects bad input with clear errors and loses nothing", { timeout: 20_000 }, async () => {
    const [a, b] = Pipe<unknown>();
    await assert.rejects(a.send(() => 1), TypeError);
    await assert.rejects(a.recv({ timeout: -1 }), RangeError);
    await assert.rejects(a.recv({ timeout: 20 }), TimeoutError);
    assert.throws(() => new Connection(), TypeError);
    assert.throws(() => Pipe({ bytes: 0 }), RangeError);
    await b.send(1);
    assert.equal(await a.recv(), 1);
    a.close();
    await assert.rejects(a.send(1), InvalidStateError);
  });

  test(
    "Connection.send() of a large message waits for room and fails fast after its timeout",
    { timeout: 20_000 },
    async () => {
      const [a, b] = Pipe<unknown>({ bytes: 1024 });
      await assert.rejects(a.send(new Uint8Array(100_000), { timeout: 30 }), TimeoutError);
      // Its first pieces fill the buffer until the reader drops them as torn.
      const sending = a.send("whole");
      assert.equal(await b.recv({ timeout: 1000 }), "whole");
      await within(sending, LIMIT, "send after a torn message");
    },
  );
});

describe("wait", () => {
  test("wait() returns the connections and queues ready to read", { timeout: 20_000 }, async () => {
    const [a, b] = Pipe<number>();
    const [c, d] = Pipe<number>();
    const q = new Queue<number>();
    assert.deepEqual(await wait([a, c, q], { timeout: 0 }), []);
    assert.deepEqual(waitSync([a, c, q], { timeout: 10 }), []);
    setTimeout(() => d.sendSync(1), 10);
    assert.deepEqual(await within(wait([a, c, q]), LIMIT, "wait"), [c]);
    await q.put(2);
    assert.deepEqual(await wait([a, c, q], { timeout: 100 }), [c, q]);
    assert.deepEqual(waitSync([a, c, q]), [c, q]);
    b.close();
    assert.deepEqual(await wait([a], { timeout: 1000 }), [a]); // EOF is ready
    const started = performance.now();
    assert.deepEqual(await wait([c.recvSync() === 1 ? c : a, q].slice(0, 1), { timeout: 30 }), []);
    assert.ok(performance.now() - started >= 25);
    await assert.rejects(wait([a], { timeout: NaN }), RangeError);
    await assert.rejects(wait([{}]), TypeError);
    const reason = new Error("stop");
    await assert.rejects(wait([c], { signal: AbortSignal.abort(reason) }), (e) => e === reason);
  });
});

// Pipes of the process context: connections that work between OS processes.
import assert from "node:assert/strict";
import process from "node:process";
import { describe } from "node:test";
import { getContext } from "../../context.ts";
import { BufferTooShortError, EOFError, InvalidStateError, TimeoutError } from "../../errors.ts";
import { Pipe, ProcessConnection, wait, waitSync } from "../../ipc/mod.ts";
import { taskModule } from "../../process/mod.ts";
import { eventually, pidAlive, test, within } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/os_pipe_tasks.ts")>(
  new URL("../testdata/os_pipe_tasks.ts", import.meta.url),
);
const PROCESS = getContext("process");
const LIMIT = 40_000;

describe("process-context Pipe", () => {
  test("Pipe passes values in order, and the reader sees EOFError once the other end is closed", async () => {
    const [a, b] = PROCESS.Pipe<unknown>();
    assert.ok(a instanceof ProcessConnection);
    const values = [1, "two", { three: [3] }, new Float64Array([4.5]), null, undefined, true, 2n ** 70n];
    for (const v of values) await a.send(v);
    for (const v of values) assert.deepEqual(await b.recv(), v);
    b.sendSync("back");
    assert.equal(await a.recv(), "back");
    a.close();
    await assert.rejects(b.recv(), (e: Error) => e instanceof EOFError && /nothing is left/.test(e.message));
    await assert.rejects(b.send(1), (e: Error) => e instanceof EOFError && /other end is closed/.test(e.message));
    b.close();
    b.close();
    await assert.rejects(b.recv(), (e: Error) => e instanceof InvalidStateError && /closed/.test(e.message));
  });

  test("Pipe({ duplex: false }) gives a reader and a writer that refuse the other direction", async () => {
    const [reader, writer] = PROCESS.Pipe<number>({ duplex: false });
    assert.deepEqual([reader.readable, reader.writable, writer.readable, writer.writable], [true, false, false, true]);
    await assert.rejects(reader.send(1), (e: Error) => e instanceof InvalidStateError && /read-only/.test(e.message));
    await assert.rejects(writer.recv(), (e: Error) => e instanceof InvalidStateError && /write-only/.test(e.message));
    writer.sendSync(7);
    assert.equal(await reader.recv(), 7);
    assert.equal(String(reader), "<ProcessConnection(read)>");
    reader.close();
    writer.close();
  });

  test("ProcessConnection Sync receives throw a TypeError naming the async form; sends work", () => {
    using a = PROCESS.Pipe<number>()[0];
    assert.throws(
      () => a.recvSync(),
      (e: Error) => e instanceof TypeError && /await connection\.recv\(\)/.test(e.message),
    );
    assert.throws(
      () => a.pollSync(),
      (e: Error) => e instanceof TypeError && /await connection\.poll\(\)/.test(e.message),
    );
    assert.throws(() => a.recvBytesSync(), (e: Error) => e instanceof TypeError && /recvBytes\(\)/.test(e.message));
    assert.throws(
      () => waitSync([a]),
      (e: Error) => e instanceof TypeError && /await wait\(\)/.test(e.message),
    );
  });

  test("ProcessConnection poll, timeout and signal behave as the thread pipe's", async () => {
    const [a, b] = PROCESS.Pipe<string>();
    assert.equal(await b.poll(), false);
    assert.equal(await b.poll(20), false);
    await assert.rejects(b.recv({ timeout: 20 }), (e: Error) => e instanceof TimeoutError && /20 ms/.test(e.message));
    const controller = new AbortController();
    const pending = b.recv({ signal: controller.signal });
    controller.abort(new Error("stop"));
    await assert.rejects(pending, /stop/);
    await assert.rejects(b.poll(-1), RangeError);
    a.sendSync("x");
    assert.equal(await b.poll(), true);
    assert.equal(await b.poll(), true, "poll does not take the message");
    assert.equal(await b.recv(), "x");
    a.close();
    assert.equal(await b.poll(), true, "the end is something to read");
    b.close();
  });

  test("ProcessConnection.send() waits while the pipe holds `bytes` from its handle; sendSync() does not", async () => {
    const [reader, writer] = PROCESS.Pipe<string>({ duplex: false, bytes: 64 });
    await writer.send("x".repeat(40));
    await writer.send("y".repeat(40));
    await assert.rejects(
      writer.send("z", { timeout: 30 }),
      (e: Error) => e instanceof TimeoutError && /stayed full for 30 ms/.test(e.message),
    );
    writer.sendSync("s");
    let sent = false;
    const later = writer.send("w").then(() => void (sent = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(sent, false, "send() waits for room");
    assert.equal(await reader.recv(), "x".repeat(40));
    await within(later, LIMIT, "send after a read");
    for (const expected of ["y".repeat(40), "s", "w"]) assert.equal(await reader.recv(), expected);
    assert.throws(() => PROCESS.Pipe({ bytes: 0 }), RangeError);
    reader.close();
    await assert.rejects(writer.send("late"), EOFError);
    writer.close();
  });

  test("ProcessConnection recvBytes leaves a refused message in the pipe; recvBytesInto reports a short buffer", async () => {
    const [a, b] = PROCESS.Pipe<unknown>();
    await a.send("text");
    await assert.rejects(b.recvBytes(), (e: Error) => e instanceof TypeError && /not bytes/.test(e.message));
    assert.equal(await b.recv(), "text");
    await a.sendBytes(new Uint8Array([1, 2, 3, 4, 5]), 1, 3);
    await assert.rejects(b.recvBytes(2), (e: Error) => e instanceof RangeError && /3 bytes/.test(e.message));
    assert.deepEqual(await b.recvBytes(3), new Uint8Array([2, 3, 4]));
    await a.sendBytes(new Uint8Array(8));
    await assert.rejects(
      b.recvBytesInto(new Uint8Array(4)),
      (e: Error) => e instanceof BufferTooShortError && (e.data as Uint8Array).length === 8,
    );
    a.close();
    b.close();
  });

  test("wait() returns the process-context connections ready to read, beside a thread pipe", async () => {
    const [a, b] = PROCESS.Pipe<number>();
    const [c, d] = PROCESS.Pipe<number>();
    const [e, f] = Pipe<number>();
    assert.deepEqual(await wait([b, d, f], { timeout: 0 }), []);
    setTimeout(() => c.sendSync(1), 20);
    assert.deepEqual(await within(wait([b, d, f]), LIMIT, "wait"), [d]);
    a.sendSync(2);
    e.sendSync(3);
    assert.deepEqual(await wait([b, d, f], { timeout: 1_000 }), [b, d, f]);
    setTimeout(() => e.sendSync(4), 20);
    assert.deepEqual(await within(wait([b, f]), LIMIT, "wait"), [b, f]);
    assert.equal(await f.recv(), 3);
    assert.equal(await b.recv(), 2);
    assert.deepEqual(await within(wait([b, f]), LIMIT, "wait for the thread pipe"), [f]);
    for (const x of [a, b, c, d, e, f]) x.close();
  });

  test("Pipe works between the parent and an OS child; closing the parent's copy of the child's end is safe", {
    timeout: LIMIT,
  }, async () => {
    const [mine, theirs] = PROCESS.Pipe<number>();
    const child = new PROCESS.Process({ target: tasks.echoTimesTen, args: [theirs as never] });
    child.start();
    theirs.close();
    for (let i = 0; i < 100; i++) await mine.send(i);
    for (let i = 0; i < 100; i++) assert.equal(await within(mine.recv(), LIMIT, `echo ${i}`), i * 10);
    mine.close();
    await within(child.join(), LIMIT, "child");
    assert.equal(child.exitCode, 0);
  });

  test("values of every kind cross to an OS child and back intact", { timeout: LIMIT }, async () => {
    const [mine, theirs] = PROCESS.Pipe<unknown>();
    const child = new PROCESS.Process({ target: tasks.echoBack, args: [theirs as never] });
    child.start();
    theirs.close();
    const values = [
      -0.5,
      "héllo 🌍",
      "ü".repeat(200),
      "",
      { a: [1, "x", null], b: { c: true } },
      new Float64Array([1.5, -2]),
      new Uint8Array([0, 255]),
      new Map([[1, "one"]]),
      undefined,
      false,
      10n ** 30n,
      new Date(0),
    ];
    for (const v of values) mine.sendSync(v);
    for (const v of values) assert.deepEqual(await within(mine.recv(), LIMIT, "echo"), v);
    mine.close();
    await within(child.join(), LIMIT, "child");
    assert.equal(child.exitCode, 0);
  });

  test("Pipe works between two OS children, and no message is lost when the sender ends right after sending", {
    timeout: LIMIT,
  }, async () => {
    // A small window: the producers wait for the hub's credit across the socket.
    const [reader, writer] = PROCESS.Pipe<number>({ duplex: false, bytes: 256 });
    const [results, out] = PROCESS.Pipe<number[]>({ duplex: false });
    const N = 2_000;
    const producers = [0, 1].map((i) =>
      new PROCESS.Process({ target: tasks.sendNumbers, args: [writer as never, i * N, N] })
    );
    const consumer = new PROCESS.Process({ target: tasks.sumUntilEof, args: [reader as never, out as never] });
    for (const p of [consumer, ...producers]) p.start();
    writer.close();
    reader.close();
    out.close();
    const [sum, count] = await within(results.recv(), LIMIT, "the consumer's sum");
    assert.equal(count, 2 * N);
    assert.equal(sum, (2 * N * (2 * N - 1)) / 2);
    await within(Promise.all([consumer, ...producers].map((p) => p.join())), LIMIT, "children");
    assert.deepEqual([consumer, ...producers].map((p) => p.exitCode), [0, 0, 0]);
    await assert.rejects(results.recv(), EOFError);
    results.close();
  });

  test("a pool's OS workers keep a pipe end from initargs, and the pipe ends when the pool does", {
    timeout: LIMIT,
  }, async () => {
    const [reader, writer] = PROCESS.Pipe<number>({ duplex: false });
    const pool = new PROCESS.Pool({ processes: 2, initializer: tasks.keepConn, initargs: [writer as never] });
    writer.close();
    const pids = await within(pool.map(tasks.sendPid, [5, 5, 5, 5], { chunksize: 1 }), LIMIT, "map");
    const got: number[] = [];
    for (let i = 0; i < 20; i++) got.push(await within(reader.recv(), LIMIT, "recv"));
    assert.deepEqual(new Set(got), new Set(pids));
    assert.ok(pids.every((pid) => pid !== process.pid));
    await within(pool.terminate(), LIMIT, "terminate");
    await assert.rejects(within(reader.recv(), LIMIT, "recv after the pool"), EOFError);
    reader.close();
  });

  test(
    "an OS child killed with SIGKILL closes its handles: the other end sees EOFError",
    { timeout: LIMIT },
    async () => {
      const [mine, theirs] = PROCESS.Pipe<number>();
      const child = new PROCESS.Process({ target: tasks.pidThenWait, args: [theirs as never] });
      child.start();
      theirs.close();
      const pid = await within(mine.recv(), LIMIT, "pid");
      assert.notEqual(pid, process.pid);
      process.kill(pid, "SIGKILL");
      await assert.rejects(within(mine.recv(), LIMIT, "recv after kill"), EOFError);
      await eventually(() => !pidAlive(pid), 10_000, "end of the child");
      await assert.rejects(mine.send(1), EOFError);
      mine.close();
    },
  );
});

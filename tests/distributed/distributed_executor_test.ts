// The distributed executor against a real redis-server and worker hosts in their own OS
// processes. Where redis-server is missing, every test here is reported as skipped, with
// the reason.
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { runtime } from "../../_runtime/mod.ts";
import { asCompleted, DistributedExecutor, FIRST_COMPLETED, runWorker, wait } from "../../distributed/mod.ts";
import { BrokenProcessPoolError, CancelledError, JobFailedError, RemoteError, TimeoutError } from "../../errors.ts";
import { Lock } from "../../sync/lock.ts";
import { taskModule } from "../../task.ts";
import { after, before, eventually, test } from "../_helpers.ts";
import { redisMissing, type RedisServer, startRedis, startWorkerHost, type WorkerHost } from "./_redis.ts";

const ROOT = new URL("../../", import.meta.url);
const tasks = taskModule<typeof import("../testdata/distributed_tasks.ts")>(
  new URL("../testdata/distributed_tasks.ts", import.meta.url),
);
const skip = redisMissing ?? false;

let redis: RedisServer;
let hosts: WorkerHost[] = [];
let queueNumber = 0;

/** A queue name no other test uses. */
function freshQueue(): string {
  return `t${Date.now()}-${queueNumber++}`;
}

function executor(queue: string): DistributedExecutor {
  return new DistributedExecutor({ connection: { host: "127.0.0.1", port: redis.port }, queue, root: ROOT });
}

/** Jobs of `queue` by state, read straight from Redis. */
async function jobCounts(queue: string): Promise<Record<string, number>> {
  const client = new Redis({ port: redis.port, maxRetriesPerRequest: null });
  const q = new Queue(queue, { connection: client });
  try {
    return await q.getJobCounts("waiting", "active", "delayed", "prioritized");
  } finally {
    await q.close();
    await client.quit();
  }
}

const SHARED = "shared";

if (redisMissing === null) {
  before(async () => {
    redis = await startRedis();
    const args = ["--redis", `127.0.0.1:${redis.port}`, "--queue", SHARED, "--concurrency", "2", "--root", "."];
    hosts = await Promise.all([startWorkerHost(args), startWorkerHost(args)]);
  });

  after(async () => {
    await Promise.all(hosts.map((host) => host.stop()));
    await redis?.stop();
  });
}

test(
  "DistributedExecutor.map() on 2 worker hosts returns 1,000 results in order",
  { skip, timeout: 60_000 },
  async () => {
    await using ex = executor(SHARED);
    const input = Array.from({ length: 1000 }, (_, i) => i);
    const out: number[] = [];
    for await (const x of ex.map(tasks.square, input)) out.push(x);
    assert.deepEqual(out, input.map((x) => x * x));
    const chunked: number[] = [];
    for await (const x of ex.starmap(tasks.add, input.map((x) => [x, 1] as [number, number]), { chunksize: 64 })) {
      chunked.push(x);
    }
    assert.deepEqual(chunked, input.map((x) => x + 1));
  },
);

test("DistributedExecutor futures work with asCompleted and wait", { skip, timeout: 30_000 }, async () => {
  await using ex = executor(SHARED);
  const futures = [1, 2, 3, 4].map((x) => ex.submit(tasks.square, x));
  const { done } = await wait(futures, { returnWhen: FIRST_COMPLETED, timeout: 20_000 });
  assert.ok(done.size >= 1);
  const values: number[] = [];
  for await (const f of asCompleted(futures, { timeout: 20_000 })) values.push(await f.result());
  assert.deepEqual(values.sort((a, b) => a - b), [1, 4, 9, 16]);
  assert.equal(await ex.submit(tasks.echo, "x"), "x");
});

test("DistributedExecutor carries structured values both ways", { skip, timeout: 30_000 }, async () => {
  await using ex = executor(SHARED);
  const shared = { k: 1 };
  const value = {
    big: 2n ** 70n,
    none: undefined,
    nums: [NaN, -0, Infinity],
    when: new Date(1234),
    re: /a+b/gi,
    map: new Map<unknown, unknown>([[1, new Set(["x"])]]),
    bytes: new Float32Array([1.5, 2.5]),
    twice: [shared, shared],
  };
  const back = await ex.submit(tasks.echo, value);
  assert.deepEqual(back, value);
  assert.equal(back.twice[0], back.twice[1]);
});

test("DistributedExecutor: a task's error arrives with its class, message, stack and cause", { skip }, async () => {
  await using ex = executor(SHARED);
  const error = await ex.submit(tasks.fail, "boom").then(() => null, (e: unknown) => e);
  assert.ok(error instanceof RemoteError);
  assert.equal(error.remoteName, "TaskFailure");
  assert.equal(error.message, "boom");
  assert.match(error.remoteStack ?? "", /distributed_tasks\.ts/);
  assert.equal((error as unknown as { code: number }).code, 42);
  assert.ok(error.cause instanceof RangeError);
  assert.equal(error.cause.message, "the root cause");
  const range = await ex.submit(tasks.failRange, 7).then(() => null, (e: unknown) => e);
  assert.ok(range instanceof RangeError);
  assert.equal(range.message, "bad n 7");
  assert.match(range.stack ?? "", /failRange/);
});

test("DistributedExecutor: a module the worker cannot find fails that job clearly", { skip }, async () => {
  await using ex = executor(SHARED);
  const ghost = taskModule<{ f(): number }>(new URL("tests/testdata/no_such_module.ts", ROOT));
  await assert.rejects(ex.submit(ghost.f).result(), /module "tests\/testdata\/no_such_module\.ts" was not found under/);
  assert.equal(await ex.submit(tasks.square, 3), 9);
});

test("DistributedExecutor.submit() refuses what cannot leave the machine, naming it", { skip }, async () => {
  await using ex = executor(SHARED);
  assert.throws(() => ex.submit(tasks.echo, new SharedArrayBuffer(8)), {
    name: "TypeError",
    message: /Cannot send args\[0\] to another machine: a SharedArrayBuffer/,
  });
  assert.throws(() => ex.submit(tasks.echo, { lock: new Lock() }), {
    name: "TypeError",
    message: /Cannot send args\[0\]\.lock to another machine: it is a shareable object/,
  });
  assert.throws(() => ex.submit(tasks.echo, () => 1), /args\[0\] .*it is a function/);
  const outside = taskModule<{ f(): number }>("file:///elsewhere/tasks.ts");
  assert.throws(() => ex.submit(outside.f), /is not under the executor's root/);
});

test("DistributedExecutor.shutdown({ cancelFutures }) removes queued jobs from Redis", { skip }, async () => {
  const queue = freshQueue(); // no worker serves it
  const ex = executor(queue);
  const futures = Array.from({ length: 50 }, (_, i) => ex.submit(tasks.square, i));
  // Once the first batch is in Redis, the jobs are waiting there.
  for (let i = 0; i < 400 && (await jobCounts(queue)).waiting < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal((await jobCounts(queue)).waiting, 50);
  await ex.shutdown({ cancelFutures: true });
  assert.ok(futures.every((f) => f.cancelled()));
  await assert.rejects(futures[0].result(), CancelledError);
  assert.deepEqual(await jobCounts(queue), { waiting: 0, active: 0, delayed: 0, prioritized: 0 });
});

test("DistributedExecutor.submitWith() times out and aborts, removing the queued job", { skip }, async () => {
  const queue = freshQueue();
  await using ex = executor(queue);
  await assert.rejects(ex.submitWith(tasks.square, [2], { timeout: 50 }).result(), TimeoutError);
  const controller = new AbortController();
  const future = ex.submitWith(tasks.square, [3], { signal: controller.signal });
  controller.abort(new Error("stop"));
  await assert.rejects(future.result(), /stop/);
  await ex.shutdown();
  assert.equal((await jobCounts(queue)).waiting, 0);
});

test("DistributedExecutor: a job removed by another client fails with JobFailedError", { skip }, async () => {
  const queue = freshQueue(); // no worker serves it
  await using ex = executor(queue);
  const future = ex.submit(tasks.square, 5);
  const client = new Redis({ port: redis.port, maxRetriesPerRequest: null });
  const q = new Queue(queue, { connection: client });
  try {
    let jobs = await q.getWaiting();
    for (let i = 0; i < 400 && jobs.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      jobs = await q.getWaiting();
    }
    assert.equal(jobs.length, 1);
    await jobs[0].remove();
  } finally {
    await q.close();
    await client.quit();
  }
  const error = await future.then(() => null, (e: unknown) => e);
  assert.ok(error instanceof JobFailedError);
  assert.match(error.message, /Cannot run task "square": its job was removed from the queue by another client/);
});

test("DistributedExecutor: a running job's future says so and cannot be cancelled", { skip }, async () => {
  await using ex = executor(SHARED);
  const future = ex.submit(tasks.slow, 1, 400);
  await eventually(() => future.running(), 10_000, "the job starting");
  assert.equal(future.cancel(), false);
  assert.equal(await future.result(), 1);
  assert.equal(future.running(), false);
});

test("DistributedExecutor.map() with a signal fails the rest and removes their jobs", { skip }, async () => {
  const queue = freshQueue(); // no worker serves it
  await using ex = executor(queue);
  const controller = new AbortController();
  const results = ex.map(tasks.square, [1, 2, 3, 4], { signal: controller.signal });
  for (let i = 0; i < 400 && (await jobCounts(queue)).waiting < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  controller.abort(new Error("enough"));
  await assert.rejects(results.next(), /enough/);
  await ex.shutdown();
  assert.equal((await jobCounts(queue)).waiting, 0);
});

test("DistributedExecutor: a worker host on another runtime serves this one's jobs", { skip }, async () => {
  const queue = freshQueue();
  const other = runtime.name === "node" ? "bun" : runtime.name === "deno" ? "node" : "deno";
  const host = await startWorkerHost(
    ["--redis", `127.0.0.1:${redis.port}`, "--queue", queue, "--concurrency", "1", "--root", "."],
    other,
  );
  try {
    await using ex = executor(queue);
    const value = { big: 3n, when: new Date(7), map: new Map([["k", new Uint8Array([1, 2])]]), none: undefined };
    assert.deepEqual(await ex.submit(tasks.echo, value), value);
    const error = await ex.submit(tasks.fail, "far").then(() => null, (e: unknown) => e);
    assert.ok(error instanceof RemoteError);
    assert.equal(error.remoteName, "TaskFailure");
  } finally {
    await host.stop();
  }
});

test("runWorker() in this process serves a DistributedExecutor", { skip }, async () => {
  const queue = freshQueue();
  await using worker = await runWorker({ connection: { port: redis.port }, queue, concurrency: 1, root: ROOT });
  assert.equal(worker.root, ROOT.href);
  await using ex = executor(queue);
  assert.deepEqual(await Promise.all([ex.submit(tasks.add, 2, 3), ex.submit(tasks.square, 6)]), [5, 36]);
});

test("DistributedExecutor: a worker host killed mid-run loses no future and settles each once", {
  skip,
  timeout: 60_000,
}, async () => {
  const queue = freshQueue();
  // A short lock and stalled check, so the other host takes over the dead host's jobs
  // within about two seconds.
  const args = [
    "--redis",
    `127.0.0.1:${redis.port}`,
    "--queue",
    queue,
    "--concurrency",
    "2",
    "--root",
    ".",
    "--lock-duration",
    "1000",
    "--stalled-interval",
    "300",
  ];
  const [doomed, survivor] = await Promise.all([startWorkerHost(args), startWorkerHost(args)]);
  // Counts the jobs BullMQ found abandoned: proof that the kill hit jobs in flight.
  const eventsClient = new Redis({ port: redis.port, maxRetriesPerRequest: null });
  const events = new QueueEvents(queue, { connection: eventsClient });
  let stalled = 0;
  events.on("stalled", () => stalled++);
  await events.waitUntilReady();
  try {
    await using ex = executor(queue);
    const n = 200;
    const futures = Array.from({ length: n }, (_, i) => ex.submit(tasks.slowOnHost, i, 10));
    const settled = new Array<number>(n).fill(0);
    futures.forEach((f, i) => f.addDoneCallback(() => settled[i]++));
    // Killed once it has shown that it serves the queue, so it dies holding jobs.
    let doomedDone = 0;
    let killed = false;
    const values: number[] = [];
    for await (const f of asCompleted(futures, { timeout: 50_000 })) {
      const { x, pid } = await f.result();
      values.push(x);
      if (pid === doomed.pid && ++doomedDone === 10 && !killed) {
        killed = true;
        doomed.child.kill("SIGKILL");
      }
    }
    assert.ok(killed, "the doomed host never ran 10 jobs");
    assert.ok(stalled > 0, "the killed host held no job");
    assert.deepEqual(values.sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(settled, new Array(n).fill(1));
  } finally {
    await Promise.all([doomed.stop(), survivor.stop()]);
    await events.close();
    await eventsClient.quit();
  }
});

test("DistributedExecutor without a reachable Redis breaks after connectTimeout instead of hanging", async () => {
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  await using ex = new DistributedExecutor({
    connection: { host: "127.0.0.1", port },
    queue: "nowhere",
    root: ROOT,
    connectTimeout: 200,
  });
  const future = ex.submit(tasks.square, 2);
  const error = await future.then(() => null, (e: unknown) => e);
  assert.ok(error instanceof BrokenProcessPoolError);
  assert.match(error.message, new RegExp(`Cannot reach Redis at 127\\.0\\.0\\.1:${port}: no connection within 200 ms`));
  assert.throws(() => ex.submit(tasks.square, 3), BrokenProcessPoolError);
});

// The distributed executor's figures: a real redis-server on loopback and one worker host
// (the `mproc worker` command line, 2 threads, in its own process), against which the
// local Pool / ProcessPoolExecutor figures of the same table and Python's
// ProcessPoolExecutor (2 workers) are read as what a distributed engine costs, not as a
// contest. The Redis and worker-host launchers are the distributed tests' own.
import { fileURLToPath } from "node:url";
import { redisMissing, startRedis, startWorkerHost } from "../tests/distributed/_redis.ts";
import type { Sizes } from "./_config.ts";
import { medianOf, range, taskFile, timeMs } from "./_measure.ts";

const ROOT = new URL("../", import.meta.url);

/** distributed_map, distributed_map_chunked and distributed_roundtrip. */
export async function distributedFigures(
  // deno-lint-ignore no-explicit-any
  mod: Record<string, any>,
  s: Sizes,
): Promise<Record<string, number>> {
  if (redisMissing !== null) throw new Error(redisMissing);
  const { DistributedExecutor } = await import("../distributed/mod.ts");
  const noop = mod.task(taskFile("task.mjs"), "noop");
  const redis = await startRedis();
  const queue = "bench";
  const root = fileURLToPath(ROOT);
  const host = await startWorkerHost(
    ["--redis", `127.0.0.1:${redis.port}`, "--queue", queue, "--concurrency", "2", "--root", root],
  );
  const ex = new DistributedExecutor({ connection: { host: "127.0.0.1", port: redis.port }, queue, root });
  const drain = async (n: number, chunksize: number) => {
    let count = 0;
    for await (const _ of ex.map(noop, range(n), { chunksize })) count++;
    if (count !== n) throw new Error(`DistributedExecutor.map yielded ${count} results for ${n} items`);
  };
  try {
    await drain(200, 1);
    const n = s.distributed_n;
    const out: Record<string, number> = {};
    out.distributed_map = await medianOf(s.reps, async () => n / ((await timeMs(() => drain(n, 1))) / 1e3));
    out.distributed_map_chunked = await medianOf(s.reps, async () => n / ((await timeMs(() => drain(n, 100))) / 1e3));
    const rt = s.distributed_rt_n;
    out.distributed_roundtrip = await medianOf(s.reps, async () => {
      const ms = await timeMs(async () => {
        for (let i = 0; i < rt; i++) await ex.submit(noop, i);
      });
      return (ms * 1e3) / rt;
    });
    return out;
  } finally {
    await ex.shutdown({ cancelFutures: true });
    await host.stop();
    await redis.stop();
  }
}

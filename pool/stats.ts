/** Percentiles of a duration, in milliseconds. */
export interface Percentiles {
  /** The median. */
  p50: number;
  /** 90% of the durations are at most this. */
  p90: number;
  /** 99% of the durations are at most this. */
  p99: number;
}

/** One live worker in {@linkcode PoolStats}. */
export interface WorkerStats {
  /** The worker's ident: its thread's ident, or its OS process id in the process context. */
  ident: number;
  /** Tasks (calls, or chunks of a map) it has finished. */
  tasks: number;
}

/**
 * What `pool.stats()` and `executor.stats()` report. A task is what the pool runs as one
 * unit: a call, or one chunk of a map (with `chunksize: 1`, one item).
 *
 * @example Usage
 * ```ts
 * import { Pool, type PoolStats, taskModule } from "@mproc/multiprocessing/pool";
 * import assert from "node:assert/strict";
 * const tasks = taskModule<typeof import("./tests/testdata/pool_tasks.ts")>(
 *   new URL("./tests/testdata/pool_tasks.ts", import.meta.url),
 * );
 * await using pool = new Pool({ processes: 2 });
 * await pool.map(tasks.square, [1, 2, 3], { chunksize: 1 });
 * const stats: PoolStats = pool.stats();
 * assert.equal(stats.completed, 3);
 * assert.ok(stats.runTime.p50 <= stats.runTime.p99);
 * ```
 */
export interface PoolStats {
  /** Tasks that ran and returned a value. */
  completed: number;
  /** Tasks that ran and threw, or whose worker died, was stopped or timed out while holding them. */
  failed: number;
  /** Tasks a worker is running now. */
  running: number;
  /** Tasks submitted and not started yet (what `maxQueue` limits). */
  queued: number;
  /** The live workers, in the order they started. */
  workers: WorkerStats[];
  /** How long tasks ran in their worker. */
  runTime: Percentiles;
  /** How long tasks waited from their submission until a worker started them. */
  waitTime: Percentiles;
  /**
   * Share of the pool's capacity (`processes` workers since the pool was made) spent
   * running tasks, from 0 to 1.
   */
  utilization: number;
}

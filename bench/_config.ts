// Sizes and figure metadata shared by every part of the bench, and passed to the Python
// script as JSON, so both sides always run the same workloads.

/** Workload sizes for one run. */
export interface Sizes {
  /** Timed repetitions per figure; the median is reported (after one warm-up). */
  reps: number;
  start_join_n: number;
  map_chunk1_n: number;
  map_default_n: number;
  /** Items of the generator pool_imap_chunk1 streams through imapUnordered. */
  imap_n: number;
  apply_n: number;
  fib_n: number;
  fib_count: number;
  /** pool_map_varied: this many instant items, then `varied_slow_n` items of `varied_ms` ms each. */
  varied_fast_n: number;
  varied_slow_n: number;
  varied_ms: number;
  executor_n: number;
  queue_n: number;
  big_bytes: number;
  big_count: number;
  pipe_n: number;
  lock_n: number;
  /**
   * Increments per worker on the contended figures, the same for every contestant: enough that
   * the fastest (JS, ~15M ops/s for two) holds the lock for >100 ms, far longer than the
   * start skew after the shared go signal; Python takes ~1-2 s per run at this count.
   */
  incr_n: number;
  rw_n: number;
  rw_write_every: number;
  /** float64 items of the shared array that two workers fill and sum. */
  array_n: number;
  /** Bytes of the SharedMemory block workers attach to. */
  shm_bytes: number;
  /** Attaches (each followed by a close) timed per worker. */
  shm_attach_n: number;
  /** Set + get round trips through a Manager dict proxy, per caller. */
  manager_ops_n: number;
  /** Tasks per DistributedExecutor.map run (one BullMQ job each at chunksize 1). */
  distributed_n: number;
  /** Sequential submit round trips per DistributedExecutor run. */
  distributed_rt_n: number;
  /** Items put by one OS child on a process-context queue (one TCP round trip each). */
  process_queue_n: number;
  /** Time allowed to one workload group before it is reported as failed, not a hang. */
  budget_ms: number;
}

/** The full run: the figures we report. */
export const FULL: Sizes = {
  reps: 5,
  start_join_n: 20,
  map_chunk1_n: 20_000,
  map_default_n: 1_000_000,
  imap_n: 2_000_000,
  apply_n: 2_000,
  fib_n: 25,
  fib_count: 40,
  varied_fast_n: 200,
  varied_slow_n: 40,
  varied_ms: 20,
  executor_n: 20_000,
  queue_n: 200_000,
  big_bytes: 10 * 1024 * 1024,
  big_count: 5,
  pipe_n: 200_000,
  lock_n: 1_000_000,
  incr_n: 1_000_000,
  rw_n: 1_000_000,
  rw_write_every: 10,
  array_n: 10_000_000,
  shm_bytes: 256 * 1024 * 1024,
  shm_attach_n: 2_000,
  manager_ops_n: 10_000,
  distributed_n: 5_000,
  distributed_rt_n: 300,
  process_queue_n: 20_000,
  budget_ms: 90_000,
};

/** The smoke run (`--quick`): every code path, small sizes, still median of 5. */
export const QUICK: Sizes = {
  ...FULL,
  start_join_n: 4,
  map_chunk1_n: 2_000,
  map_default_n: 100_000,
  imap_n: 200_000,
  apply_n: 200,
  fib_count: 8,
  varied_slow_n: 20,
  varied_ms: 10,
  executor_n: 2_000,
  queue_n: 20_000,
  big_count: 1,
  pipe_n: 20_000,
  lock_n: 100_000,
  incr_n: 50_000,
  rw_n: 50_000,
  array_n: 1_000_000,
  shm_bytes: 16 * 1024 * 1024,
  shm_attach_n: 200,
  manager_ops_n: 1_000,
  distributed_n: 500,
  distributed_rt_n: 50,
  process_queue_n: 1_000,
  budget_ms: 15_000,
};

/** How one figure is read. */
export interface FigureMeta {
  id: string;
  unit: string;
  better: "higher" | "lower";
  title: string;
}

/** Every figure, in report order. */
export const FIGURES: readonly FigureMeta[] = [
  {
    id: "process_start_join",
    unit: "ms",
    better: "lower",
    title: "Process start + join, from a warm worker reserve (Python: its own start method)",
  },
  {
    id: "process_start_join_cold",
    unit: "ms",
    better: "lower",
    title: "Process start + join, reserve off: every start boots a worker",
  },
  { id: "pool_map_chunk1", unit: "tasks/s", better: "higher", title: "Pool.map, chunksize 1" },
  {
    id: "pool_idle_mib_per_worker",
    unit: "MiB",
    better: "lower",
    title: "Memory per idle pool worker: RSS growth of the process for 4 workers / 4 (Python: the children's PSS / 4)",
  },
  { id: "pool_map_chunk1_cpu", unit: "µs CPU", better: "lower", title: "Pool.map, chunksize 1: CPU per task" },
  { id: "pool_map_default", unit: "items/s", better: "higher", title: "Pool.map, default chunksize" },
  {
    id: "pool_imap_chunk1",
    unit: "items/s",
    better: "higher",
    title: "Pool.imapUnordered of a 2M-item generator, chunksize 1",
  },
  { id: "apply_roundtrip", unit: "µs", better: "lower", title: "apply round trip" },
  { id: "apply_roundtrip_cpu", unit: "µs CPU", better: "lower", title: "apply round trip: CPU per task" },
  { id: "cpu_speedup", unit: "x", better: "higher", title: "fib(25)×40 speedup, 2 workers" },
  {
    id: "pool_map_varied",
    unit: "× ideal",
    better: "lower",
    title: "Pool.map of 200 instant then 40×20 ms items, chunksize 1: wall time over the ideal split",
  },
  { id: "executor_map", unit: "tasks/s", better: "higher", title: "ProcessPoolExecutor.map" },
  { id: "executor_map_cpu", unit: "µs CPU", better: "lower", title: "ProcessPoolExecutor.map: CPU per task" },
  { id: "queue_small", unit: "msgs/s", better: "higher", title: "Queue, small messages" },
  { id: "queue_10mb", unit: "ms/msg", better: "lower", title: "Queue, one 10 MB message" },
  { id: "queue_empty_bytes", unit: "bytes", better: "lower", title: "Shared memory of an empty Queue" },
  { id: "pipe_small", unit: "msgs/s", better: "higher", title: "Pipe, small messages" },
  { id: "lock_uncontended", unit: "ns", better: "lower", title: "Lock acquire + release, uncontended" },
  { id: "value_locked_incr", unit: "ops/s", better: "higher", title: "Value locked increment, 2 workers" },
  { id: "lock_contended_incr", unit: "ops/s", better: "higher", title: "Lock-guarded counter, 2 workers" },
  { id: "rwlock_read_mix", unit: "ops/s", better: "higher", title: "RWLock 90% reads, 2 workers" },
  { id: "array_fill_sum", unit: "items/s", better: "higher", title: "Array fill + sum of 10M float64, 2 workers" },
  { id: "shm_attach", unit: "µs", better: "lower", title: "SharedMemory attach + close by name, from a worker" },
  { id: "shm_attach_rss", unit: "MiB", better: "lower", title: "RSS growth: 2 workers attach 256 MiB and read it" },
  {
    id: "process_ctx_start_join",
    unit: "ms",
    better: "lower",
    title: "Process start + join, process context, from a warm reserve of OS children (Python: its own start method)",
  },
  {
    id: "process_ctx_start_join_cold",
    unit: "ms",
    better: "lower",
    title: "Process start + join, process context, reserve off: every start forks and boots a runtime",
  },

  {
    id: "process_ctx_pool_map_chunk1",
    unit: "tasks/s",
    better: "higher",
    title: "Pool.map, chunksize 1, process context (2 OS workers)",
  },
  {
    id: "process_ctx_queue_small",
    unit: "msgs/s",
    better: "higher",
    title: "Queue, small messages from an OS child, process context",
  },
  {
    id: "process_ctx_queue_child_get",
    unit: "msgs/s",
    better: "higher",
    title: "Queue, small messages the parent put, taken by an OS child, process context (a request per get)",
  },
  { id: "manager_dict_ops", unit: "ops/s", better: "higher", title: "Manager dict set/get, one caller" },
  { id: "manager_dict_ops_2w", unit: "ops/s", better: "higher", title: "Manager dict set/get, 2 workers" },
  {
    id: "distributed_map",
    unit: "tasks/s",
    better: "higher",
    title:
      "DistributedExecutor.map, chunksize 1 (BullMQ + Redis on loopback, 1 host × 2 threads; Python: local executor)",
  },
  {
    id: "distributed_map_chunked",
    unit: "items/s",
    better: "higher",
    title: "DistributedExecutor.map, chunksize 100 (Python: local executor)",
  },
  {
    id: "distributed_roundtrip",
    unit: "µs",
    better: "lower",
    title: "DistributedExecutor submit round trip (Python: local executor)",
  },
];

/** The peer pools compared on the pool figures. */
/** The figures the raw pool limit and every peer measure, all in one go. */
export const POOL_FIGURES: readonly string[] = [
  "pool_map_chunk1",
  "pool_map_chunk1_cpu",
  "executor_map",
  "executor_map_cpu",
  "pool_map_default",
  "apply_roundtrip",
  "apply_roundtrip_cpu",
  "cpu_speedup",
];

export const PEERS = ["piscina", "tinypool", "workerpool", "poolifier"] as const;
export type PeerName = typeof PEERS[number];

/** Python's default `Pool.map` chunk size (CPython `Pool._map_async`), used by raw and peers too. */
export function pythonChunksize(n: number, workers: number): number {
  const [q, r] = [Math.floor(n / (workers * 4)), n % (workers * 4)];
  return Math.max(1, r > 0 ? q + 1 : q);
}

"""Python multiprocessing side of `npm run bench`: the same workloads as the TypeScript
figures, with the same sizes (passed in by bench/run.ts as JSON so the two never drift).

Prints one JSON object: {"python": version, "start_method": m, "figures": {id: median}}.
Each figure is warmed up once, then timed `reps` times; the median is reported.
Usage: python3 bench/python/mp_bench.py --method fork|spawn --sizes '{"reps": 5, ...}'
"""
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory


# The task code: the same functions as bench/tasks/task.mjs.
def noop(x):
    return x


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def empty():
    pass


def spin(ms):
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass
    return ms


def ready_then_go(ready, go):
    """Report ready, then wait for the parent's go: as bench/tasks/ctl.mjs does for the JS
    contestants, so no contestant's process start-up falls inside a timed window."""
    ready.release()
    go.wait()


def producer(q, ready, go, n):
    ready_then_go(ready, go)
    for i in range(n):
        q.put(i)
    q.put(None)


def consumer(q, ready, go, done, n):
    ready_then_go(ready, go)
    for _ in range(n):
        q.get()
    done.release()


def big_producer(q, ready, go, size, count):
    payload = bytes(size)
    ready_then_go(ready, go)
    for _ in range(count):
        q.put(payload)


def pipe_producer(conn, ready, go, n):
    ready_then_go(ready, go)
    for i in range(n):
        conn.send(i)
    conn.send(None)


def value_incr(v, ready, go, done, n):
    ready_then_go(ready, go)
    for _ in range(n):
        with v.get_lock():
            v.value += 1
    done.put(1)


def lock_incr(lock, counter, ready, go, done, n):
    ready_then_go(ready, go)
    for _ in range(n):
        with lock:
            counter.value += 1
    done.put(1)


def array_part(arr, part, ready, go, done):
    # Python's fastest documented path: numpy over the Array's buffer, else slices. numpy is
    # imported here, before the start signal, so spawn children of other figures never pay for it.
    try:
        import numpy as np
    except ImportError:
        np = None
    n = len(arr)
    lo, hi = n * part // 2, n * (part + 1) // 2
    ready.release()
    go.wait()
    if np is not None:
        a = np.frombuffer(arr.get_obj(), dtype=np.float64)
        a[lo:hi] = np.arange(lo, hi, dtype=np.float64) * 0.5
        total = float(a[lo:hi].sum())
    else:
        arr[lo:hi] = [i * 0.5 for i in range(lo, hi)]
        total = sum(arr[lo:hi])
    done.put((part, total))


def shm_attach_part(name, n, ready, go, done):
    ready.release()
    go.wait()
    t = time.perf_counter()
    for _ in range(n):
        shared_memory.SharedMemory(name).close()
    done.put((time.perf_counter() - t) / n * 1e6)


def started_together(ctx, target, arg_lists):
    """Start one process per argument list, wait until all are ready, release them together;
    returns the seconds until each has put one result, and the results."""
    ready, go, done = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    ps = [ctx.Process(target=target, args=(*args, ready, go, done)) for args in arg_lists]
    for p in ps:
        p.start()
    for _ in ps:
        ready.acquire()
    t = time.perf_counter()
    go.set()
    results = [done.get() for _ in ps]
    dt = time.perf_counter() - t
    for p in ps:
        p.join()
    return dt, results


def array_fill_sum(ctx, s):
    n = s["array_n"]
    arr = ctx.Array("d", n)

    def once():
        dt, results = started_together(ctx, array_part, [(arr, 0), (arr, 1)])
        want = 0.5 * n * (n - 1) / 2
        if abs(sum(r[1] for r in results) - want) > want * 1e-9:
            raise RuntimeError("Array sum is wrong")
        return n / dt

    return median_of(s["reps"], once)


def shm_attach(ctx, s):
    block = shared_memory.SharedMemory(create=True, size=s["shm_bytes"])
    try:
        block.buf[:] = b"\x01" * s["shm_bytes"]

        def once():
            _, results = started_together(ctx, shm_attach_part, [(block.name, s["shm_attach_n"])] * 2)
            return sum(results) / len(results)

        return median_of(s["reps"], once)
    finally:
        block.close()
        block.unlink()


def manager_ops(d, key, ready, go, done, n):
    # The same untimed warm-up as ours (bench/tasks/manager.mjs), which a JIT needs.
    for i in range(n):
        d[key] = i
        d[key]
    ready_then_go(ready, go)
    for i in range(n):
        d[key] = i
        d[key]
    done.put(1)


def median_of(reps, once, warm=True):
    """Warm up once, then the median of `reps` timed runs of `once` (which returns the figure)."""
    if warm:
        once()
    return statistics.median(once() for _ in range(reps))


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """CPU time (user + system) so far of this process and of the live children `pids`, read
    from /proc: the JS side's process.cpuUsage() covers all its worker threads, and Python's
    workers are processes, so their time is added here."""
    total = time.process_time()
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def timed_cpu(f, pids):
    """Wall and CPU seconds of `f`, the CPU counted over this process and `pids`."""
    c = cpu_seconds(pids)
    t = time.perf_counter()
    f()
    wall = time.perf_counter() - t
    return wall, cpu_seconds(pids) - c


def medians_of(reps, once):
    """Like median_of for a `once` that returns two figures: the median of each."""
    once()
    runs = [once() for _ in range(reps)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def start_join(ctx, s):
    n = s["start_join_n"]

    def once():
        def run():
            for _ in range(n):
                p = ctx.Process(target=empty)
                p.start()
                p.join()

        return timed(run) / n * 1e3

    return median_of(s["reps"], once)


def arrive(ready):
    ready.release()


def pss_kib(pid):
    """Proportional set size of one process: its private pages plus its share of the pages
    it shares (a fork child shares the parent's pages copy-on-write)."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise RuntimeError(f"no Pss line in /proc/{pid}/smaps_rollup")


def pool_idle_mib_per_worker(ctx, s):
    """PSS of the 4 children of an idle Pool(4), once each has run its initializer, / 4."""

    def once():
        ready = ctx.Semaphore(0)
        with ctx.Pool(4, initializer=arrive, initargs=(ready,)) as pool:
            for _ in range(4):
                ready.acquire()
            time.sleep(0.5)
            return sum(pss_kib(p.pid) for p in pool._pool) / 4 / 1024

    return median_of(s["reps"], once)


def pool_figures(ctx, s, out):
    reps = s["reps"]
    with ctx.Pool(2) as pool:
        pool.map(noop, range(100))
        pids = [p.pid for p in pool._pool]
        n = s["map_chunk1_n"]

        def chunk1():
            wall, cpu = timed_cpu(lambda: pool.map(noop, range(n), chunksize=1), pids)
            return n / wall, cpu / n * 1e6

        out["pool_map_chunk1"], out["pool_map_chunk1_cpu"] = medians_of(reps, chunk1)
        n = s["map_default_n"]
        out["pool_map_default"] = median_of(reps, lambda: n / timed(lambda: pool.map(noop, range(n))))
        n = s["apply_n"]

        def seq():
            for i in range(n):
                pool.apply_async(noop, (i,)).get()

        def roundtrip():
            wall, cpu = timed_cpu(seq, pids)
            return wall / n * 1e6, cpu / n * 1e6

        out["apply_roundtrip"], out["apply_roundtrip_cpu"] = medians_of(reps, roundtrip)
        work = [s["fib_n"]] * s["fib_count"]
        # Serial and parallel back to back in each repetition, ratio per repetition: load from
        # other programs hits both sides of one ratio alike (same as bench/_measure.ts speedup).
        out["cpu_speedup"] = median_of(
            2 * reps + 1,
            lambda: timed(lambda: [fib(x) for x in work]) / timed(lambda: pool.map(fib, work, chunksize=1)),
        )
        varied = [0] * s["varied_fast_n"] + [s["varied_ms"]] * s["varied_slow_n"]
        ideal = s["varied_slow_n"] * s["varied_ms"] / 1000 / 2
        out["pool_map_varied"] = median_of(reps, lambda: timed(lambda: pool.map(spin, varied, chunksize=1)) / ideal)


def imap_chunk1(ctx, s):
    n = s["imap_n"]

    def once():
        def run():
            count = sum(1 for _ in pool.imap_unordered(noop, iter(range(n))))
            assert count == n, f"imap_unordered yielded {count} results for {n} items"

        return n / timed(run)

    with ctx.Pool(2) as pool:
        pool.map(noop, range(100))
        # One timed run, no warm-up (the map above warmed the pool): 2M items take Python
        # about 25 s, and five would hold up the whole bench for minutes.
        return median_of(1, once, warm=False)


def executor_map(ctx, s, out):
    n = s["executor_n"]
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        list(ex.map(noop, range(100)))

        def once():
            # Read each time: the executor may start a worker on demand.
            wall, cpu = timed_cpu(lambda: list(ex.map(noop, range(n))), list(ex._processes))
            return n / wall, cpu / n * 1e6

        out["executor_map"], out["executor_map_cpu"] = medians_of(s["reps"], once)


def distributed_counterparts(ctx, s, out):
    """The local executor on the distributed figures: what the distributed engine is read against."""
    n, rt = s["distributed_n"], s["distributed_rt_n"]
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        list(ex.map(noop, range(100)))
        out["distributed_map"] = median_of(s["reps"], lambda: n / timed(lambda: list(ex.map(noop, range(n)))))
        out["distributed_map_chunked"] = median_of(
            s["reps"], lambda: n / timed(lambda: list(ex.map(noop, range(n), chunksize=100)))
        )
        out["distributed_roundtrip"] = median_of(
            s["reps"], lambda: timed(lambda: [ex.submit(noop, i).result() for i in range(rt)]) / rt * 1e6
        )


def with_producer(ctx, target, args, consume):
    """Start a producer child, wait until it is ready, then time `consume` from the moment
    the child may begin."""
    ready, go = ctx.Semaphore(0), ctx.Event()
    p = ctx.Process(target=target, args=(*args[:1], ready, go, *args[1:]))
    p.start()
    ready.acquire()
    t = time.perf_counter()
    go.set()
    consume()
    dt = time.perf_counter() - t
    p.join()
    return dt


def queue_small(ctx, s):
    n = s["queue_n"]

    def once():
        q = ctx.Queue()

        def consume():
            while q.get() is not None:
                pass

        return n / with_producer(ctx, producer, (q, n), consume)

    return median_of(s["reps"], once)


def queue_child_get(ctx, s):
    n = s["process_queue_n"]

    def once():
        q = ctx.Queue()
        for i in range(n):
            q.put(i)
        done = ctx.Semaphore(0)
        return n / with_producer(ctx, consumer, (q, done, n), done.acquire)

    return median_of(s["reps"], once)


def queue_big(ctx, s):
    size, count = s["big_bytes"], s["big_count"]

    def once():
        q = ctx.Queue()

        def consume():
            for _ in range(count):
                q.get()

        return with_producer(ctx, big_producer, (q, size, count), consume) / count * 1e3

    return median_of(s["reps"], once)


def pipe_small(ctx, s):
    n = s["pipe_n"]

    def once():
        a, b = ctx.Pipe(duplex=False)

        def consume():
            while a.recv() is not None:
                pass

        return n / with_producer(ctx, pipe_producer, (b, n), consume)

    return median_of(s["reps"], once)


def lock_uncontended(ctx, s):
    lock, n = ctx.Lock(), s["lock_n"]

    def run():
        for _ in range(n):
            lock.acquire()
            lock.release()

    return median_of(s["reps"], lambda: timed(run) / n * 1e9)


def two_workers(ctx, target, make_args, n):
    """Two children hammer one counter; time from `go`, given once both are ready, until
    both report done."""
    ready, go, done = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    ps = [ctx.Process(target=target, args=(*make_args(), ready, go, done, n)) for _ in range(2)]
    for p in ps:
        p.start()
    for _ in ps:
        ready.acquire()
    t = time.perf_counter()
    go.set()
    done.get()
    done.get()
    dt = time.perf_counter() - t
    for p in ps:
        p.join()
    return 2 * n / dt


def value_locked_incr(ctx, s):
    n = s["incr_n"]

    def once():
        v = ctx.Value("i", 0)
        ops = two_workers(ctx, value_incr, lambda: (v,), n)
        if v.value != 2 * n:
            raise RuntimeError(f"Value increment lost updates: {v.value} != {2 * n}")
        return ops

    return median_of(s["reps"], once)


def lock_contended_incr(ctx, s):
    n = s["incr_n"]

    def once():
        lock, counter = ctx.Lock(), ctx.RawValue("i", 0)
        ops = two_workers(ctx, lock_incr, lambda: (lock, counter), n)
        if counter.value != 2 * n:
            raise RuntimeError(f"Locked increment lost updates: {counter.value} != {2 * n}")
        return ops

    return median_of(s["reps"], once)


def manager_dict_ops(ctx, s, out):
    """Set + get through a Manager dict proxy: one caller, then two worker processes."""
    n = s["manager_ops_n"]
    with ctx.Manager() as manager:
        d = manager.dict()

        def one():
            t = time.perf_counter()
            for i in range(n):
                d["k"] = i
                d["k"]
            return 2 * n / (time.perf_counter() - t)

        out["manager_dict_ops"] = median_of(s["reps"], one)

        def two():
            # Each child its own key; set + get count as two operations.
            keys = iter(["k0", "k1"])
            return 2 * two_workers(ctx, manager_ops, lambda: (d, next(keys)), n)

        out["manager_dict_ops_2w"] = median_of(s["reps"], two)


def main():
    args = sys.argv[1:]
    method = args[args.index("--method") + 1] if "--method" in args else "fork"
    sizes = json.loads(args[args.index("--sizes") + 1])
    only = set(args[args.index("--only") + 1].split(",")) if "--only" in args else None

    def want(*ids):
        return only is None or any(i in only for i in ids)

    ctx = mp.get_context(method)
    figs = {}
    # Python's processes are OS processes in every context: the process-context figures are its own.
    if want("process_start_join", "process_start_join_cold", "process_ctx_start_join", "process_ctx_start_join_cold"):
        # Python keeps no reserve: one figure stands for the warm and the cold start.
        sj = start_join(ctx, sizes)
        for fid in ("process_start_join", "process_start_join_cold", "process_ctx_start_join",
                    "process_ctx_start_join_cold"):
            figs[fid] = sj
    if want("pool_idle_mib_per_worker"):
        figs["pool_idle_mib_per_worker"] = pool_idle_mib_per_worker(ctx, sizes)
    if want("pool_map_chunk1", "pool_map_chunk1_cpu", "pool_map_default", "apply_roundtrip",
            "apply_roundtrip_cpu", "cpu_speedup", "pool_map_varied", "process_ctx_pool_map_chunk1"):
        pool_figures(ctx, sizes, figs)
        figs["process_ctx_pool_map_chunk1"] = figs["pool_map_chunk1"]
    if want("pool_imap_chunk1"):
        figs["pool_imap_chunk1"] = imap_chunk1(ctx, sizes)
    if want("executor_map", "executor_map_cpu"):
        executor_map(ctx, sizes, figs)
    if want("queue_small", "process_ctx_queue_small"):
        figs["queue_small"] = figs["process_ctx_queue_small"] = queue_small(ctx, sizes)
    if want("process_ctx_queue_child_get"):
        figs["process_ctx_queue_child_get"] = queue_child_get(ctx, sizes)
    for fid, f in [("queue_10mb", queue_big), ("pipe_small", pipe_small), ("lock_uncontended", lock_uncontended),
                   ("value_locked_incr", value_locked_incr), ("lock_contended_incr", lock_contended_incr),
                   ("array_fill_sum", array_fill_sum), ("shm_attach", shm_attach)]:
        if want(fid):
            figs[fid] = f(ctx, sizes)
    if "manager_ops_n" in sizes and want("manager_dict_ops", "manager_dict_ops_2w"):
        manager_dict_ops(ctx, sizes, figs)
    if want("distributed_map", "distributed_map_chunked", "distributed_roundtrip"):
        distributed_counterparts(ctx, sizes, figs)
    print(json.dumps({"python": sys.version.split()[0], "start_method": method, "figures": figs}))


if __name__ == "__main__":
    main()

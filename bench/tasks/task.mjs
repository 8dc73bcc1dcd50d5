// The task code every contestant runs: our Pool, the four peer pools and the raw workers all
// import this one file, so differences come from the machinery, not the work.

/** Identity: the smallest task, so the figure is the pool's own cost. */
export default function noop(x) {
  return x;
}

export { noop };

/** CPU-bound work for the speedup figure. */
export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** Busy for `ms` milliseconds (0 returns at once): items whose cost varies. */
export function spin(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
  return ms;
}

/** One chunk of a chunked map, for peers that have no chunking of their own. */
export function mapChunk(xs) {
  return xs.map(noop);
}

/** An empty process body, for start + join. */
export function empty() {}

/** Pool initializer: count this worker in word 0 of `sab` once it has booted. */
export function arrive(sab) {
  const counter = new Int32Array(sab, 0, 1);
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
}

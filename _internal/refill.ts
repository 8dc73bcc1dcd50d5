// The background refill of a worker reserve (worker_reserve.ts for threads,
// process_reserve.ts for OS children): one timer per reserve, set for the soonest refill
// asked for, that keeps nothing alive.
import { runtime } from "../_runtime/mod.ts";

/**
 * A function that runs `fill` in `ms`, or sooner if a refill is already due sooner. The
 * timer keeps nothing alive: a program that ends meanwhile starts no worker for nothing.
 */
export function refiller(fill: () => void): (ms: number) => void {
  /** When the queued refill is due, or `Infinity` when none is queued. */
  let due = Infinity;
  return (ms) => {
    const at = performance.now() + ms;
    if (at >= due) return;
    due = at;
    runtime.later(() => {
      if (due !== at) return;
      due = Infinity;
      fill();
    }, ms);
  };
}

// Durations in fixed log-scale buckets, for the pool's percentiles: recording is one
// log2 and one increment, memory is fixed however many tasks run, and it works the same on
// every runtime (Bun has no perf_hooks histogram). Eight buckets per doubling keep any
// percentile within about 4.5% of the true value.
const PER_DOUBLING = 8;
/** From 1 µs to 2^36 µs (19 hours); longer durations share the last bucket. */
const BUCKETS = 36 * PER_DOUBLING;

/** A histogram of durations in milliseconds. */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #min = Infinity;
  #max = 0;

  /** Record one duration (ms); a negative one counts as 0. */
  record(ms: number): void {
    const us = ms * 1000;
    const at = us <= 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log2(us) * PER_DOUBLING));
    this.#counts[at]++;
    this.#count++;
    const value = ms > 0 ? ms : 0;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /** Durations recorded. */
  get count(): number {
    return this.#count;
  }

  /**
   * The duration (ms) that `p` percent of the recorded ones do not exceed: the middle of
   * its bucket, kept within the smallest and largest recorded. 0 when nothing was recorded.
   */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let at = 0; at < BUCKETS; at++) {
      seen += this.#counts[at];
      if (seen >= rank) {
        // The last bucket has no upper end.
        if (at === BUCKETS - 1) return this.#max;
        const middle = 2 ** ((at + 0.5) / PER_DOUBLING) / 1000;
        return Math.min(this.#max, Math.max(this.#min, middle));
      }
    }
    return this.#max;
  }
}

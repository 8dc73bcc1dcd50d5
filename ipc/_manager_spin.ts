// How long to spin for the other side before sleeping. A spinning hand-off costs well under
// a microsecond and a futex wake ~45 µs, but only while both threads have a core: on a
// loaded machine the other side is not running, the spin burns the time it needs, and a
// call took 4× longer with spinning than without (measured with 16 runnable threads on 2
// cores). So the budget adapts: full after a spin that caught the other side, halved after
// one that did not, down to none, with a full probe every PROBE_EVERY waits.

const PROBE_EVERY = 32;

/** An adaptive spin budget, one per waiting site. */
export class SpinBudget {
  readonly #max: number;
  #budget: number;
  #skipped = 0;

  /** @param max longest spin, in ms */
  constructor(max: number) {
    this.#max = this.#budget = max;
  }

  /** How long to spin now, in ms (0: sleep at once). */
  now(): number {
    if (this.#budget > 0) return this.#budget;
    if (++this.#skipped < PROBE_EVERY) return 0;
    this.#skipped = 0;
    return this.#max;
  }

  /** The spin caught the other side. */
  hit(): void {
    this.#budget = this.#max;
  }

  /** The spin ran out. */
  miss(): void {
    this.#budget = this.#budget > this.#max / 8 ? this.#budget / 2 : 0;
  }
}

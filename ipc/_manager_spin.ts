// How long a client spins for its reply before sleeping. A spinning hand-off costs well
// under a microsecond and a futex wake ~45 µs, but only while both threads have a core: on
// a loaded machine the other side is not running, the spin burns the time it needs, and a
// call took 4× longer with spinning than without (measured with 16 runnable threads on 2
// cores). So the budget adapts: full after a spin that caught the reply, halved after one
// that did not, down to none, with a full probe every PROBE_EVERY calls. This also serves
// two busy workers sharing two cores with the server: a worker whose spins miss is the
// one that shares the server's core, and it does best to give that core up at once. The
// server's own spin does not adapt (see _manager_entry.ts), so a client that stops
// spinning costs one futex wake per call, never a server asleep as well.

const PROBE_EVERY = 32;

/** An adaptive spin budget, one per waiting site. */
export class SpinBudget {
  readonly #max: number;
  #budget: number;
  #skipped = 0;
  #start = 0;

  /** @param max longest spin, in ms */
  constructor(max: number) {
    this.#max = this.#budget = max;
  }

  /** How long to spin now, in ms (0: a few hundred loads at most, then sleep). */
  now(): number {
    if (this.#budget > 0) return this.#budget;
    if (++this.#skipped < PROBE_EVERY) return 0;
    this.#skipped = 0;
    return this.#max;
  }

  /**
   * Whether a spin has used up `budget` ms; call it every few iterations, the first call
   * starting the clock (a spin caught at once reads no clock). On running out it halves
   * the budget.
   */
  spent(budget: number): boolean {
    const t = performance.now();
    if (this.#start === 0) {
      this.#start = t;
      return false;
    }
    if (t - this.#start < budget) return false;
    this.#start = 0;
    this.#budget = this.#budget > this.#max / 8 ? this.#budget / 2 : 0;
    return true;
  }

  /** The spin caught the other side. */
  hit(): void {
    this.#start = 0;
    this.#budget = this.#max;
  }
}

// How long to spin for the other side before sleeping. A spinning hand-off costs well under
// a microsecond and a futex wake ~45 µs, but only while both threads have a core: on a
// loaded machine the other side is not running, the spin burns the time it needs, and a
// call took 4× longer with spinning than without (measured with 16 runnable threads on 2
// cores). A spin that runs out only because the other side is idle says nothing about the
// machine, and giving up spinning then made both sides sleep for good once one did (each
// then waits for the other's futex wake, ~30k calls/s instead of ~300k). So the budget
// shrinks only when the spinning thread itself lost its core during a spin (a gap between
// two clock reads far longer than the loop between them): halved each time, down to none,
// with a full probe every PROBE_EVERY waits, and full again after a spin that caught the
// other side.

const PROBE_EVERY = 32;
/** A gap (ms) between two clock reads of a spin loop that means the thread lost its core. */
const PREEMPTED_MS = 0.03;

/** An adaptive spin budget, one per waiting site. */
export class SpinBudget {
  readonly #max: number;
  #budget: number;
  #skipped = 0;
  #start = 0;
  #last = 0;
  #preempted = false;

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

  /** A spin starts now. */
  begin(): void {
    this.#start = this.#last = performance.now();
    this.#preempted = false;
  }

  /**
   * Whether a spin begun with {@linkcode SpinBudget.begin} has used up `budget` ms; call
   * it every few iterations. On running out it adapts the budget.
   */
  spent(budget: number): boolean {
    const t = performance.now();
    if (t - this.#last > PREEMPTED_MS) this.#preempted = true;
    this.#last = t;
    if (t - this.#start < budget) return false;
    if (this.#preempted) this.#budget = this.#budget > this.#max / 8 ? this.#budget / 2 : 0;
    return true;
  }

  /** The spin caught the other side. */
  hit(): void {
    this.#budget = this.#max;
  }
}

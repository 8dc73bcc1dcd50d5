// How long a client spins for its reply before sleeping. A spinning hand-off costs well
// under a microsecond and a futex wake ~45 µs, but only while both threads have a core:
// on a loaded machine the other side is not running, the spin burns the time it needs,
// and a call took 4× longer with a long spin than without (measured with 16 runnable
// threads on 2 cores). A spin that runs out only because the server is busy or asleep says
// nothing about the machine, so the budget shrinks only when the spinning thread itself
// lost its core during a spin (a gap between two clock reads far longer than the loop
// between them): halved each time, down to a floor, and full again after a spin that
// caught the reply. The floor is not zero: with two busy workers and a server on two cores
// each thread loses its core now and then, and a worker that stopped spinning waited for
// a futex wake on every call and finished far behind the other (~100k instead of ~400k
// calls/s); a spin of the floor's length costs about what a futex sleep and wake do.

/** A gap (ms) between two clock reads of a spin loop that means the thread lost its core. */
const PREEMPTED_MS = 0.03;

/** An adaptive spin budget, one per waiting site. */
export class SpinBudget {
  readonly #max: number;
  readonly #min: number;
  #budget: number;
  #start = 0;
  #last = 0;
  #preempted = false;

  /**
   * @param max longest spin, in ms
   * @param min shortest spin, in ms
   */
  constructor(max: number, min: number) {
    this.#max = this.#budget = max;
    this.#min = min;
  }

  /** How long to spin now, in ms. */
  now(): number {
    return this.#budget;
  }

  /**
   * Whether a spin has used up `budget` ms; call it every few iterations, the first call
   * starting the clock (a spin caught at once reads no clock). On running out it adapts
   * the budget.
   */
  spent(budget: number): boolean {
    const t = performance.now();
    if (this.#start === 0) {
      this.#start = this.#last = t;
      this.#preempted = false;
      return false;
    }
    if (t - this.#last > PREEMPTED_MS) this.#preempted = true;
    this.#last = t;
    if (t - this.#start < budget) return false;
    this.#start = 0;
    if (this.#preempted) this.#budget = Math.max(this.#min, this.#budget / 2);
    return true;
  }

  /** The spin caught the other side. */
  hit(): void {
    this.#start = 0;
    this.#budget = this.#max;
  }
}

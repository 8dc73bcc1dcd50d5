// Types registered with a manager in the tests; their objects live in the server thread.

/** A counter served with its public methods. */
export class Counter {
  #n = 0;
  constructor(start = 0) {
    this.#n = start;
  }
  increment(by: number): number {
    this.#n += by;
    return this.#n;
  }
  value(): number {
    return this.#n;
  }
  async later(ms: number): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.#n;
  }
  fail(): never {
    throw new RangeError(`counter at ${this.#n} refuses`);
  }
  _hidden(): number {
    return -1;
  }
}

/** Make a counter (a factory, as task references name functions). */
export function makeCounter(start = 0): Counter {
  return new Counter(start);
}

const shared = new Map<string, unknown>();

/** The same Map every time: a dict every client of a remote manager shares. */
export function sharedDict(): Map<string, unknown> {
  return shared;
}

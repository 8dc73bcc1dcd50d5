// Worker targets for the packed-chunk tests: results that stop being numbers part-way.

/** The number itself below `100`, text from there on. */
export function numberThenText(x: number): number | string {
  return x < 100 ? x : `text ${x}`;
}

/** Doubled: at once below `100`, as a promise from there on. */
export function numberThenPromise(x: number): number | Promise<number> {
  return x < 100 ? x * 2 : Promise.resolve(x * 2);
}

/** What the worker received: its type, and whether it is negative zero. */
export function describe(x: unknown): string {
  return Object.is(x, -0) ? "-0" : typeof x;
}

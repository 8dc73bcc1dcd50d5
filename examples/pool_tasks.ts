// Task module for the pool and executor examples.

/** n squared. */
export function square(n: number): number {
  return n * n;
}

/** base to the power exp, for starmap (several arguments per call). */
export function power(base: number, exp: number): number {
  return base ** exp;
}

/** n squared, after `n` ms, so later inputs finish later. */
export async function slowSquare(n: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, n));
  return n * n;
}

/** Refuse negative numbers, to show how a task's error reaches the caller. */
export function checkedSqrt(n: number): number {
  if (n < 0) throw new RangeError(`cannot take the square root of ${n}`);
  return Math.sqrt(n);
}

/** Count down from `n`, one value at a time, for `pool.stream`. */
export async function* countdown(n: number): AsyncGenerator<string> {
  for (let i = n; i > 0; i--) yield String(i);
  yield "liftoff";
}

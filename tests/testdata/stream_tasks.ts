// Worker targets for the stream and progress tests.
import { reportProgress } from "../../pool/mod.ts";
import { currentProcess, exit } from "../../process/mod.ts";

// Words of the shared counters a test passes as `buffer`.
/** Yields produced so far (counted before each yield). */
export const PRODUCED = 0;
/** Values the consumer has taken (the test writes it). */
export const TAKEN = 1;
/** The most `PRODUCED - TAKEN` ever was, as the producer saw it. */
export const MAX_LAG = 2;
/** 1 once the generator's `finally` ran. */
export const CLOSED = 3;

/** Yields 0 … n-1. */
export async function* count(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** A plain generator yielding 0 … n-1, and returning "end". */
export function* countSync(n: number): Generator<number, string> {
  for (let i = 0; i < n; i++) yield i;
  return "end";
}

/** Yields 0 … n-1, recording in `buffer` how far it ran ahead of the consumer. */
export async function* counted(buffer: SharedArrayBuffer, n: number): AsyncGenerator<number> {
  const words = new Int32Array(buffer);
  for (let i = 0; i < n; i++) {
    const produced = Atomics.add(words, PRODUCED, 1) + 1;
    const lag = produced - Atomics.load(words, TAKEN);
    if (lag > Atomics.load(words, MAX_LAG)) Atomics.store(words, MAX_LAG, lag);
    yield i;
  }
}

/** Yields 0, 1, 2, … forever; its `finally` marks CLOSED in `buffer`. */
export async function* endless(buffer: SharedArrayBuffer): AsyncGenerator<number> {
  const words = new Int32Array(buffer);
  try {
    for (let i = 0;; i++) {
      Atomics.add(words, PRODUCED, 1);
      yield i;
    }
  } finally {
    Atomics.store(words, CLOSED, 1);
  }
}

/** Yields 0 … n-1, then throws a RangeError. */
export async function* failAfter(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
  throw new RangeError(`failed after ${n}`);
}

/** Yields 0 … n-1, then ends its worker with code 3. */
export async function* dieAfter(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
  exit(3);
}

/** Yields a value that cannot be copied to the parent. */
export async function* yieldsFunction(): AsyncGenerator<unknown> {
  yield 1;
  yield () => 2;
}

/** Not a generator. */
export function notAGenerator(n: number): number {
  return n;
}

/** Reports 0 … n-1, then returns n. */
export function reportEach(n: number): number {
  for (let i = 0; i < n; i++) reportProgress(i);
  return n;
}

/** Awaits between reports 0 … n-1, then returns n. */
export async function reportEachAsync(n: number): Promise<number> {
  for (let i = 0; i < n; i++) {
    await Promise.resolve();
    reportProgress(i);
  }
  return n;
}

/** Reports a value that cannot be copied. */
export function reportFunction(): number {
  reportProgress(() => 1);
  return 1;
}

/** Reports `x * 10`, then returns x². */
export function reportSquare(x: number): number {
  reportProgress(x * 10);
  return x * x;
}

/** x². */
export function square(x: number): number {
  return x * x;
}

/** a + b. */
export function add(a: number, b: number): number {
  return a + b;
}

/** Reports "half" midway through its yields, so a stream carries progress too. */
export async function* countReporting(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    if (i === n >> 1) reportProgress("half");
    yield i;
  }
}

/** The ident of the worker running it. */
export function whoAmI(): number {
  return currentProcess().ident;
}

// Bounds for every wait in tests, so a bug fails a test instead of hanging the suite.
import { readFileSync } from "node:fs";
import process from "node:process";
import * as nodeTest from "node:test";

/**
 * The bound of a test that names none. node --test and deno test have no default per-test
 * timeout, so without one a hung await would stall the run until scripts/test.mjs kills the
 * runtime, without naming the test. Generous, because two cores are shared by the runtimes'
 * workers; a test that needs longer says so with its own `timeout`.
 */
export const TEST_TIMEOUT = 20_000;

type TestFn = (...args: never[]) => unknown;
type Options = { timeout?: number; skip?: boolean | string; todo?: boolean | string; only?: boolean };

/**
 * `test` from node:test with a default `timeout`: a hang fails the test by name after
 * `TEST_TIMEOUT` ms on node, deno and bun alike (each honours the option).
 */
export function test(name: string, fn: TestFn): void;
export function test(name: string, options: Options, fn: TestFn): void;
export function test(name: string, a: Options | TestFn, b?: TestFn): void {
  const [options, fn] = typeof a === "function" ? [{}, a] : [a, b!];
  void nodeTest.test(name, { timeout: TEST_TIMEOUT, ...options }, fn as never);
}

/** `after` from node:test with the same default bound, so a hung cleanup fails by name too. */
export function after(fn: TestFn): void {
  nodeTest.after(fn as never, { timeout: TEST_TIMEOUT });
}

/** `before` from node:test with the same default bound, or `timeout` ms for a slow setup. */
export function before(fn: TestFn, timeout: number = TEST_TIMEOUT): void {
  nodeTest.before(fn as never, { timeout });
}

/** Resolve with `promise`, or reject when it takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Wait until `check()` is true, polling; fails after `ms`. */
export async function eventually(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Whether `pid` names a running OS process (a zombie waiting to be reaped counts as ended). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

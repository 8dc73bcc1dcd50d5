// The timeout and signal of one pool call (apply, map, imap, stream), as Pool and
// ProcessPoolExecutor read them from the call's options.
import { type CallSignal, callSignal } from "../_internal/call_signal.ts";
import type { PoolCallOptions } from "./pool.ts";

/**
 * The call signal of a pool call: its timeout counts from the first task's start unless
 * `timeoutFrom` is "submit".
 *
 * @throws {RangeError} when `timeout` or `timeoutFrom` is invalid
 */
export function poolCallSignal(options: PoolCallOptions, what: string): CallSignal | undefined {
  const { timeoutFrom = "start" } = options;
  if (timeoutFrom !== "start" && timeoutFrom !== "submit") {
    throw new RangeError(`Cannot ${what}: timeoutFrom must be "start" or "submit", got ${String(timeoutFrom)}`);
  }
  return callSignal(options.timeout, options.signal, what, timeoutFrom === "start");
}

/** Whether a call's options hold a timeout, a signal or a `timeoutFrom` to check at all. */
export function asksForSignal(options: PoolCallOptions): boolean {
  return options.timeout !== undefined || options.signal !== undefined || options.timeoutFrom !== undefined;
}

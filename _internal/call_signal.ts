// A call's `{ timeout, signal }` merged into one signal whose reason says what happened:
// the caller's own reason, or a TimeoutError naming the call.
import { TimeoutError } from "../errors.ts";
import { checkTimeout, throwIfAborted } from "./deadline.ts";

/** The merged signal of one call, and how to release its timer and listener. */
export interface CallSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * Merge a timeout and a signal; `undefined` when there is neither.
 *
 * @param what the call, for messages: `run task "fib"`
 * @throws {RangeError} when the timeout is negative or NaN
 * @throws the signal's reason when it has already fired
 */
export function callSignal(
  timeout: number | undefined,
  signal: AbortSignal | undefined,
  what: string,
): CallSignal | undefined {
  checkTimeout(timeout, what);
  throwIfAborted(signal);
  if (timeout === undefined && signal === undefined) return undefined;
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    dispose();
    controller.abort(signal!.reason);
  };
  const dispose = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    signal?.removeEventListener("abort", onAbort);
  };
  if (timeout !== undefined && timeout !== Infinity) {
    timer = setTimeout(() => {
      dispose();
      controller.abort(new TimeoutError(`Cannot ${what}: it timed out after ${timeout} ms`));
    }, timeout);
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  return { signal: controller.signal, dispose };
}

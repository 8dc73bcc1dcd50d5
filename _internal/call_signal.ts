// A call's `{ timeout, signal }` merged into one signal whose reason says what happened:
// the caller's own reason, or a TimeoutError naming the call. A pool call's timeout may
// count from when its first task starts running rather than from the call.
import { CancelledError, TimeoutError } from "../errors.ts";
import { checkTimeout, throwIfAborted } from "./deadline.ts";

/** The merged signal of one call, and how to release its timer and listener. */
export interface CallSignal {
  readonly signal: AbortSignal;
  /** Whether the timeout counts already: from the call, or since {@linkcode CallSignal.start}. */
  readonly started: boolean;
  /** Start counting a deferred timeout (the call's first task began to run); later calls do nothing. */
  start(): void;
  /**
   * The error to reject one task of the call with, once the signal fired: a fresh
   * `TimeoutError`, a `CancelledError` for an abort without a reason of its own, each with
   * `index` when given (a map item), or else the caller's own reason as it is.
   */
  reasonFor(index?: number): unknown;
  dispose(): void;
}

/** Whether `reason` is what `abort()` without an argument puts on a signal. */
function isBareAbort(reason: unknown): boolean {
  return typeof DOMException === "function" && reason instanceof DOMException && reason.name === "AbortError";
}

/**
 * Merge a timeout and a signal; `undefined` when there is neither.
 *
 * @param what the call, for messages: `run task "fib"`
 * @param deferred the timeout starts at `start()` rather than now
 * @throws {RangeError} when the timeout is negative or NaN
 * @throws the signal's reason when it has already fired
 */
export function callSignal(
  timeout: number | undefined,
  signal: AbortSignal | undefined,
  what: string,
  deferred = false,
): CallSignal | undefined {
  checkTimeout(timeout, what);
  throwIfAborted(signal);
  if (timeout === undefined && signal === undefined) return undefined;
  const controller = new AbortController();
  const timed = timeout !== undefined && timeout !== Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let started = !(deferred && timed);
  let disposed = false;
  let timedOut = false;
  const onAbort = () => {
    dispose();
    controller.abort(signal!.reason);
  };
  const dispose = () => {
    disposed = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    signal?.removeEventListener("abort", onAbort);
  };
  const arm = () => {
    timer = setTimeout(() => {
      dispose();
      timedOut = true;
      controller.abort(new TimeoutError(`Cannot ${what}: it timed out after ${timeout} ms`));
    }, timeout);
  };
  if (timed && started) arm();
  signal?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    get started() {
      return started;
    },
    start() {
      if (started) return;
      started = true;
      if (!disposed) arm();
    },
    reasonFor(index?: number) {
      const reason = controller.signal.reason;
      const at = index === undefined ? "" : ` (item ${index} was not finished)`;
      let error: TimeoutError | CancelledError;
      if (timedOut) error = new TimeoutError(`Cannot ${what}: it timed out after ${timeout} ms${at}`);
      else if (isBareAbort(reason)) {
        error = new CancelledError(`Cannot ${what}: it was aborted${at}`, { cause: reason });
      } else return reason;
      if (index !== undefined) error.index = index;
      return error;
    },
    dispose,
  };
}

// Timeouts and abort signals, checked and merged the same way everywhere. Deadlines are
// on the monotonic clock (performance.now()): a change of the wall clock must not shift
// a timeout.

/** The absolute deadline for a wait of `timeout` ms from now; `Infinity` when `undefined`. */
export function deadlineOf(timeout: number | undefined): number {
  return timeout === undefined || timeout === Infinity ? Infinity : performance.now() + timeout;
}

/** Milliseconds left until `deadline`, never negative; `Infinity` for no deadline. */
export function timeLeft(deadline: number): number {
  if (deadline === Infinity) return Infinity;
  const left = deadline - performance.now();
  return left > 0 ? left : 0;
}

/**
 * Check a timeout in milliseconds: `undefined` waits forever, `0` does not wait.
 *
 * @throws {RangeError} when the timeout is negative or NaN
 */
export function checkTimeout(timeout: number | undefined, what: string): void {
  if (timeout === undefined) return;
  if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError(
      `Cannot ${what}: the timeout must be a non-negative number of milliseconds or undefined, got ${String(timeout)}`,
    );
  }
}

/** Reject at once with the signal's reason when it has already fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/**
 * Wait for `promise`, at most `timeout` ms, or until `signal` fires. Resolves with
 * `{ ok: true, value }`, or `{ ok: false }` on timeout; rejects with the signal's reason.
 * The timer and the listener are removed on every path.
 */
export function raceDeadline<T>(
  promise: Promise<T>,
  timeout: number | undefined,
  signal?: AbortSignal,
): Promise<{ ok: true; value: T } | { ok: false }> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (timeout === undefined && signal === undefined) return promise.then((value) => ({ ok: true, value }));
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      cleanup();
      reject(signal!.reason);
    };
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    if (timeout !== undefined && timeout !== Infinity) {
      timer = setTimeout(() => {
        cleanup();
        resolve({ ok: false });
      }, timeout);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve({ ok: true, value });
      },
      (error) => {
        cleanup();
        reject(error);
      },
    );
  });
}

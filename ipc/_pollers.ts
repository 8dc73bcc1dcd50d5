// How `wait()` watches a readable object that has no ring in this process (a
// process-context connection): it asks whether something is there, waiting up to a
// timeout. Kept here rather than on the objects so it stays out of their public surface.

/** Resolves true once the object has something (or its end) to read, false at the timeout. */
export type Poller = (timeout: number, signal: AbortSignal) => Promise<boolean>;

/** The poller of each object that has one. */
export const pollers: WeakMap<object, Poller> = new WeakMap();

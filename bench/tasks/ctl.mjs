// The start-together control block shared by the raw-limit workers and our contended process
// targets: [.., go @2, ready @3, done @4, ..]. bench/_measure.ts is the parent side.

/** Report ready, then wait until the parent flips the go word, so thread start is never timed. */
export function ready(ctl) {
  Atomics.add(ctl, 3, 1);
  Atomics.notify(ctl, 3);
  while (Atomics.load(ctl, 2) === 0) Atomics.wait(ctl, 2, 0, 50);
}

/** Report this worker done. */
export function finish(ctl) {
  Atomics.add(ctl, 4, 1);
  Atomics.notify(ctl, 4);
}

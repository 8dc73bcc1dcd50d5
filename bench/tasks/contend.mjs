// Process targets for our contended figures. They receive live library objects (a Lock or an
// RWLock) as arguments, so this module itself imports nothing from the library.
// ctl layout matches raw_worker.mjs: [.., go @2, ready @3, done @4, .., .., counter @7].
import { finish, ready } from "./ctl.mjs";

/** Two of these share one counter under our Lock. */
export function lockIncr(lock, sab, n) {
  const ctl = new Int32Array(sab, 0, 8);
  ready(ctl);
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    ctl[7] = ctl[7] + 1;
    lock.release();
  }
  finish(ctl);
}

/** Two of these read (and every `writeEvery`-th time write) a counter under our RWLock. */
export function rwMix(rw, sab, n, writeEvery) {
  const ctl = new Int32Array(sab, 0, 8);
  ready(ctl);
  let seen = 0;
  for (let i = 0; i < n; i++) {
    if (i % writeEvery === 0) {
      rw.acquireWriteSync();
      ctl[7] = ctl[7] + 1;
      rw.releaseWrite();
    } else {
      rw.acquireReadSync();
      seen += ctl[7];
      rw.releaseRead();
    }
  }
  finish(ctl);
  return seen;
}

// Process targets for our contended figures. They receive live library objects (a Lock or an
// RWLock) as arguments, so this module itself imports nothing from the library.
// ctl layout matches raw_worker.mjs: [.., go @2, ready @3, done @4, .., .., counter @7].

function ready(ctl) {
  Atomics.add(ctl, 3, 1);
  Atomics.notify(ctl, 3);
  while (Atomics.load(ctl, 2) === 0) Atomics.wait(ctl, 2, 0, 50);
}

function finish(ctl) {
  Atomics.add(ctl, 4, 1);
  Atomics.notify(ctl, 4);
}

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

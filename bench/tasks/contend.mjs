// Process targets for our contended and shared-memory figures. They receive live library
// objects (a Lock, an RWLock, a Value, a SharedArray, a SharedMemory) as arguments, so this
// module itself imports nothing from the library.
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

/** Two of these add one to a shared Value under its getLock(), as Python's `with v.get_lock(): v.value += 1`. */
export function valueIncr(v, sab, n) {
  const ctl = new Int32Array(sab, 0, 8);
  const lock = v.getLock();
  ready(ctl);
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    v.value += 1;
    lock.release();
  }
  finish(ctl);
}

/** Fill part `part` of `parts` of a float64 SharedArray through its view (item i = i / 2), then sum it. */
export function arrayFillSum(a, sab, part, parts) {
  const ctl = new Int32Array(sab, 0, 8);
  ready(ctl);
  const view = a.view;
  const lo = Math.floor((view.length * part) / parts);
  const hi = Math.floor((view.length * (part + 1)) / parts);
  for (let i = lo; i < hi; i++) view[i] = i * 0.5;
  let sum = 0;
  for (let i = lo; i < hi; i++) sum += view[i];
  new Float64Array(sab, 32, parts)[part] = sum;
  finish(ctl);
}

/**
 * Attach to the block by name and close, `n` times (the handle received in args gives the
 * class, so this module needs no import); record µs per attach, then read one byte per page.
 */
export function shmAttach(shm, sab, part, n) {
  const ctl = new Int32Array(sab, 0, 8);
  const SharedMemory = shm.constructor;
  ready(ctl);
  const t = performance.now();
  for (let i = 0; i < n; i++) SharedMemory.attachSync(shm.name).close();
  const us = ((performance.now() - t) * 1e3) / n;
  const mine = SharedMemory.attachSync(shm.name);
  const buf = mine.buf;
  let sum = 0;
  for (let i = 0; i < buf.length; i += 4096) sum += buf[i];
  mine.close();
  new Float64Array(sab, 32, 4)[part] = us;
  new Float64Array(sab, 32, 4)[2 + part] = sum;
  finish(ctl);
}

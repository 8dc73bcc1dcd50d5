// Worker targets for the sync tests. Shared counters live in plain Int32Arrays over a
// SharedArrayBuffer and are updated without atomics where the test is about a lock.
import { currentProcess } from "../../process/mod.ts";
import type { Barrier } from "../../sync/barrier.ts";
import type { Condition } from "../../sync/condition.ts";
import type { Event } from "../../sync/event.ts";
import type { Lock } from "../../sync/lock.ts";
import type { RLock } from "../../sync/rlock.ts";
import type { RWLock } from "../../sync/rw_lock.ts";
import type { Semaphore } from "../../sync/semaphore.ts";
import type { Box } from "./box.ts";

/** `n` times: take the lock, do a non-atomic `counter += 1`, release. */
export function lockCount(lock: Lock | RLock, counter: SharedArrayBuffer, n: number): void {
  const c = new Int32Array(counter);
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    c[0] = c[0] + 1;
    lock.release();
  }
}

/** The same with the async forms and `using`, half of the time via `hold()`. */
export async function lockCountAsync(lock: Lock | RLock, counter: SharedArrayBuffer, n: number): Promise<void> {
  const c = new Int32Array(counter);
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      using _ = await lock.hold();
      c[0] = c[0] + 1;
    } else {
      await lock.acquire();
      c[0] = c[0] + 1;
      lock.release();
    }
  }
}

/** Take the lock, raise flag 0 of `box`, then block until flag 1 (the test terminates us first). */
export function holdForever(lock: Lock | RLock, box: Box): void {
  lock.acquireSync();
  box.raise(0);
  box.untilSync(1, 60_000);
}

/** Release a lock this worker never took; report the error's name in the box. */
export function releaseForeign(lock: Lock | RLock, box: Box): void {
  try {
    lock.release();
    box.write("released");
  } catch (error) {
    box.write((error as Error).name);
  }
}

/** `rounds` times: take a slot, record how many hold one at once, give it back. */
export function semaphoreHold(sem: Semaphore, counters: SharedArrayBuffer, rounds: number): void {
  const c = new Int32Array(counters); // [holding now, most seen]
  for (let i = 0; i < rounds; i++) {
    sem.acquireSync();
    const now = Atomics.add(c, 0, 1) + 1;
    for (let seen = Atomics.load(c, 1); now > seen; seen = Atomics.load(c, 1)) {
      if (Atomics.compareExchange(c, 1, seen, now) === seen) break;
    }
    // Stay until a second holder comes: in the first round long enough that the test can
    // count on it even on a loaded machine (the others are taking their first slot), then
    // a moment (the last holders may have nobody left to meet). Bounded either way.
    const until = performance.now() + (i === 0 ? 10_000 : 2);
    while (performance.now() < until && Atomics.load(c, 0) < 2);
    Atomics.sub(c, 0, 1);
    sem.release();
  }
}

/** Take a slot, raise flag 0 of `box`, then block until flag 1 (the test terminates us first). */
export function holdSlotForever(sem: Semaphore, box: Box): void {
  sem.acquireSync();
  box.raise(0);
  box.untilSync(1, 60_000);
}

/** Put `items` into a 4-place ring guarded by `cond`: words [count, head, tail, ...ring]. */
export function produce(cond: Condition, ring: SharedArrayBuffer, items: number[]): void {
  const r = new Int32Array(ring);
  for (const item of items) {
    using _ = cond.holdSync();
    cond.waitForSync(() => r[0] < 4, 30_000);
    r[3 + r[2]] = item;
    r[2] = (r[2] + 1) % 4;
    r[0]++;
    cond.notifyAll();
  }
}

/** Raise flag `slot` of `box` when about to wait, then record in the box word `slot + 8` what `event.waitSync` returned. */
export function waitEvent(event: Event, box: Box, slot: number): void {
  box.raise(slot);
  const result = event.waitSync(30_000);
  box.raise(slot + 8, result ? 1 : 2);
}

/** Pass `barrier` `rounds` times; count arrivals per round and fail if anyone passes early. */
export function barrierRounds(barrier: Barrier, arrivals: SharedArrayBuffer, rounds: number): void {
  const a = new Int32Array(arrivals);
  for (let round = 0; round < rounds; round++) {
    Atomics.add(a, round, 1);
    barrier.waitSync(30_000);
    const seen = Atomics.load(a, round);
    if (seen !== barrier.parties) throw new Error(`Passed round ${round} with ${seen} arrivals`);
  }
}

/** Hold the read side until `readers` readers hold it at once (flag words [inside, most seen]). */
export function readTogether(rw: RWLock, counters: SharedArrayBuffer, readers: number): void {
  const c = new Int32Array(counters);
  using _ = rw.readSync();
  const now = Atomics.add(c, 0, 1) + 1;
  for (let seen = Atomics.load(c, 1); now > seen; seen = Atomics.load(c, 1)) {
    if (Atomics.compareExchange(c, 1, seen, now) === seen) break;
  }
  const until = performance.now() + 30_000;
  while (Atomics.load(c, 1) < readers && performance.now() < until) Atomics.wait(c, 1, Atomics.load(c, 1), 5);
  Atomics.notify(c, 1);
  Atomics.sub(c, 0, 1);
}

/** Take and release the read side again and again, overlapping with other readers, until word 0 of `stop` is set. */
export function readStream(rw: RWLock, stop: SharedArrayBuffer, box: Box): void {
  const s = new Int32Array(stop);
  let reads = 0;
  while (Atomics.load(s, 0) === 0) {
    using _ = rw.readSync({ timeout: 30_000 });
    reads++;
    if (reads === 10) box.raise(0);
    const until = performance.now() + 0.2;
    while (performance.now() < until);
  }
}

/** Take the write side, raise flag 0 of `box`, then block until flag 1 (the test terminates us first). */
export function holdWriteForever(rw: RWLock, box: Box): void {
  rw.acquireWriteSync();
  box.raise(0);
  box.untilSync(1, 60_000);
}

/**
 * `n` reads, every `writeEvery`-th one a write instead, half of the worker in the async forms.
 * Words of `counters`: [0] readers inside by our own count, [1] reads done, [2] writes done
 * (a plain `+= 1` under the write side), [3] errors seen. Under the write side no reader may
 * be inside and `rw.readers` must be 0; under the read side it must be at least 1.
 */
export async function readCountMix(
  rw: RWLock,
  counters: SharedArrayBuffer,
  n: number,
  writeEvery: number,
  useAsync: boolean,
): Promise<void> {
  const c = new Int32Array(counters);
  for (let i = 1; i <= n; i++) {
    if (i % writeEvery === 0) {
      if (useAsync) await rw.acquireWrite();
      else rw.acquireWriteSync();
      if (Atomics.load(c, 0) !== 0 || rw.readers !== 0 || !rw.writeLocked) Atomics.add(c, 3, 1);
      c[2] = c[2] + 1;
      rw.releaseWrite();
    } else {
      if (useAsync) await rw.acquireRead();
      else rw.acquireReadSync();
      Atomics.add(c, 0, 1);
      if (rw.readers < 1 || rw.writeLocked) Atomics.add(c, 3, 1);
      Atomics.add(c, 1, 1);
      Atomics.sub(c, 0, 1);
      rw.releaseRead();
    }
  }
}

/**
 * Take the read side, raise flag 0, then hold it until a writer is waiting (a second,
 * non-blocking read is refused) and record in flag 2 whether it was; release.
 */
export function readUntilWriterWaits(rw: RWLock, box: Box): void {
  rw.acquireReadSync();
  box.raise(0);
  const until = performance.now() + 30_000;
  let refused = false;
  while (!refused && performance.now() < until) {
    if (rw.acquireReadSync({ blocking: false })) rw.releaseRead();
    else refused = true;
  }
  box.raise(2, refused ? 1 : -1);
  rw.releaseRead();
}

/** Raise flag 0, then wait for the write side (the test holds the read side and terminates us first). */
export function waitWriteForever(rw: RWLock, box: Box): void {
  box.raise(0);
  rw.acquireWriteSync({ timeout: 60_000 });
  box.raise(1);
}

/** Release the write side of an RWLock this worker never took; report the error's name in the box. */
export function releaseWriteForeign(rw: RWLock, box: Box): void {
  try {
    rw.releaseWrite();
    box.write("released");
  } catch (error) {
    box.write((error as Error).name);
  }
}

/** Wait for the read side (a writer holds it), raise flag 1 once in, hold it until flag 2. */
export function readAfterWriter(rw: RWLock, box: Box): void {
  box.raise(0);
  using _ = rw.readSync({ timeout: 30_000 });
  box.raise(1);
  box.untilSync(2, 30_000);
}

/** Barrier action: count calls in a module-level SharedArrayBuffer set by `barrierWithAction`. */
export function countAction(): void {
  Atomics.add(actionCounter!, 0, 1);
}

let actionCounter: Int32Array | undefined;

/** Pass `barrier` once with the async form, counting action runs in `counter`. */
export async function barrierWithAction(barrier: Barrier, counter: SharedArrayBuffer): Promise<void> {
  actionCounter = new Int32Array(counter);
  await barrier.wait(30_000);
}

/**
 * `n` times: a non-atomic `counter += 1` under the write side, with word 1 marking a
 * writer inside; then a read under the read side, which must never see that mark.
 */
export function rwCount(rw: RWLock, counter: SharedArrayBuffer, n: number): void {
  const c = new Int32Array(counter);
  for (let i = 0; i < n; i++) {
    rw.acquireWriteSync();
    if (c[1] !== 0) throw new Error("Two writers inside at once");
    c[1] = 1;
    c[0] = c[0] + 1;
    c[1] = 0;
    rw.releaseWrite();
    rw.acquireReadSync();
    if (c[1] !== 0) throw new Error("A reader saw a writer inside");
    rw.releaseRead();
  }
}

/** Load the action, then pass `barrier` once with the blocking form, counting action runs in `counter`. */
export async function barrierWithActionSync(barrier: Barrier, counter: SharedArrayBuffer): Promise<void> {
  actionCounter = new Int32Array(counter);
  await barrier.ready();
  barrier.waitSync(30_000);
}

/** Barrier action: count the run in word 0 and record this thread's ident in word `1 + run`. */
export function recordActionThread(): void {
  const run = Atomics.add(actionWords!, 0, 1);
  Atomics.store(actionWords!, 1 + run, currentProcess().ident);
}

let actionWords: Int32Array | undefined;

/**
 * Pass `barrier` `rounds` times; in each round the party given the last arrival index
 * records its ident in word `1 + rounds + round` of `words` (the action uses the words
 * before them), so the test can match each round's action to the last party.
 */
export async function barrierLastParty(barrier: Barrier, words: SharedArrayBuffer, rounds: number): Promise<void> {
  const w = new Int32Array(words);
  actionWords = w;
  for (let round = 0; round < rounds; round++) {
    const index = await barrier.wait(30_000);
    if (index === barrier.parties - 1) Atomics.store(w, 1 + rounds + round, currentProcess().ident);
  }
}

/** Barrier action that fails. */
export function failAction(): void {
  throw new RangeError("action failed on purpose");
}

// Shared-memory gates the pool tests hand to tasks (see countThenWait in testdata/pool_tasks.ts).

/**
 * Words of a countThenWait buffer: calls so far, the gate, calls let through without
 * waiting (`free`).
 */
export function counterGate(free = 0): { buffer: SharedArrayBuffer; count(): number; open(): void } {
  const buffer = new SharedArrayBuffer(12);
  const words = new Int32Array(buffer);
  words[2] = free;
  return {
    buffer,
    count: () => Atomics.load(words, 0),
    open() {
      Atomics.store(words, 1, 1);
      Atomics.notify(words, 1);
    },
  };
}

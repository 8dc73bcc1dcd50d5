// A tiny shareable type for tests: an Int32 array of flags plus a JSON slot, over one
// SharedArrayBuffer, revived live in any worker it is passed to.
import { registerShareable, type SharedState, toShared } from "../../_internal/shareable.ts";

const FLAGS = 16;
const TEXT_BYTES = 4096;

export class Box {
  readonly flags: Int32Array;
  readonly #text: Uint8Array;
  readonly buffer: SharedArrayBuffer;

  constructor(buffer = new SharedArrayBuffer(FLAGS * 4 + 4 + TEXT_BYTES)) {
    this.buffer = buffer;
    this.flags = new Int32Array(buffer, 0, FLAGS + 1);
    this.#text = new Uint8Array(buffer, (FLAGS + 1) * 4);
  }

  /** Store a JSON value, then raise flag `flag` and wake its waiters. */
  write(value: unknown, flag = 0): void {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    this.#text.set(bytes);
    Atomics.store(this.flags, FLAGS, bytes.length);
    this.raise(flag);
  }

  read(): unknown {
    const n = Atomics.load(this.flags, FLAGS);
    return JSON.parse(new TextDecoder().decode(this.#text.slice(0, n)));
  }

  raise(flag: number, value = 1): void {
    Atomics.store(this.flags, flag, value);
    Atomics.notify(this.flags, flag);
  }

  /** Wait (async, bounded) until flag `flag` is non-zero. */
  async until(flag: number, timeout = 10_000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (Atomics.load(this.flags, flag) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Box flag ${flag} was not raised within ${timeout} ms`);
      const keepAlive = setTimeout(() => {}, Math.min(left, 50));
      const r = Atomics.waitAsync(this.flags, flag, 0, Math.min(left, 50));
      if (r.async) await r.value;
      clearTimeout(keepAlive);
    }
  }

  /** Block (sync, bounded) until flag `flag` is non-zero; for workers. */
  untilSync(flag: number, timeout = 10_000): void {
    const deadline = Date.now() + timeout;
    while (Atomics.load(this.flags, flag) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Box flag ${flag} was not raised within ${timeout} ms`);
      Atomics.wait(this.flags, flag, 0, left);
    }
  }

  [toShared](): SharedState {
    return { kind: "test.Box", module: import.meta.url, state: this.buffer };
  }
}

registerShareable("test.Box", (buffer: SharedArrayBuffer) => new Box(buffer));

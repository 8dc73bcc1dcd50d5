import { identity } from "../_internal/identity.ts";
import {
  arena,
  attachBlock,
  attachBlockAsync,
  type Block,
  closeBlock,
  createBlock,
  encodeName,
  type Failure,
  MAX_NAME_BYTES,
  reopenBlock,
  unlinkBlock,
} from "../_internal/name_table.ts";
import { registerShareable, type SharedState, toShared } from "../_internal/shareable.ts";
import { FileExistsError, FileNotFoundError, InvalidStateError } from "../errors.ts";

/** Options for {@linkcode SharedMemory.create}. */
export interface SharedMemoryCreateOptions {
  /** Name other threads attach by; a unique `psm_…` name is made when absent. @default {undefined} */
  name?: string;
  /** Size in bytes, an integer > 0. */
  size: number;
}

const KIND = "shm.SharedMemory";
// Largest block: offsets and sizes are kept as 32-bit words in the name table.
const MAX_SIZE = 2 ** 32 - 64;

interface SharedMemoryState {
  name: string;
  index: number;
  generation: number;
}

// A handle that is garbage collected without close() is closed then, as Python's
// SharedMemory closes in __del__.
const collected = new FinalizationRegistry<{ index: number; generation: number; ident: number }>(
  ({ index, generation, ident }) => closeBlock(index, generation, ident),
);

function checkName(name: unknown, what: string): Uint8Array {
  if (typeof name !== "string") throw new TypeError(`Cannot ${what}: the name must be a string, not ${typeof name}`);
  const bytes = encodeName(name);
  if (name.length === 0 || bytes === null) {
    throw new RangeError(
      `Cannot ${what} "${name}": a name must be 1 to ${MAX_NAME_BYTES} bytes long in UTF-8`,
    );
  }
  return bytes;
}

function randomName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return "psm_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Each handle's buf keeps its handle alive (an ephemeron), so a caller who keeps only
// `buf` keeps the block open.
const holders = new WeakMap<Uint8Array, SharedMemory>();

/**
 * A block of shared memory found by name, like Python's
 * `multiprocessing.shared_memory.SharedMemory`: `create()` it in one thread, then
 * `attach(name)` from any thread of the program — a worker that knows only the name, a
 * grandchild, or a worker while the main thread is blocked in `Atomics.wait` — and every
 * handle's `buf` is the same memory, never a copy. Passed in `args`, a handle arrives as
 * another handle on the same block.
 *
 * Every block lives in one program-wide SharedArrayBuffer that grows as blocks are
 * created (up to 4 GiB in all; a large block is no different), so an attach is a lookup in
 * a shared name table under a lock, with no message to any thread.
 *
 * Threads of one OS process share one address space, so the two ends of Python's
 * lifecycle mean:
 * - `close()` ends this handle: its `buf` may no longer be used, and this thread stops
 *   counting as a holder. Other handles are unaffected. A handle that is garbage collected
 *   is closed then, as in Python; keep the handle (or its `buf`) referenced while you use
 *   views made from it.
 * - `unlink()` removes the name at once (a later attach fails, the name may be created
 *   anew); the memory is freed for reuse once every handle is closed or its thread has
 *   ended. Nothing is returned to the OS: the arena keeps its size and reuses the space.
 *
 * Call `unlink()` exactly once per block, as in Python. All blocks vanish with the program.
 *
 * @example Usage
 * ```ts
 * import { SharedMemory } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * using shm = SharedMemory.create({ size: 16 });
 * using other = SharedMemory.attachSync(shm.name);
 * shm.buf[0] = 42;
 * assert.equal(other.buf[0], 42);
 * shm.unlink();
 * ```
 */
export class SharedMemory {
  readonly #name: string;
  readonly #block: Block;
  #buf: Uint8Array | null;
  #token: object | null = {};

  private constructor(name: string, block: Block) {
    this.#name = name;
    this.#block = block;
    this.#buf = new Uint8Array(arena(), block.offset, block.size);
    holders.set(this.#buf, this);
    collected.register(
      this,
      { index: block.index, generation: block.generation, ident: identity().ident },
      this.#token!,
    );
  }

  /**
   * Create a new zeroed block.
   *
   * @param options `size` in bytes (an integer > 0) and an optional `name`
   * @returns a handle on the new block
   * @throws {RangeError} when the size is not an integer > 0, the name is empty or too long, or the arena is full
   * @throws {FileExistsError} when a block of that name exists
   */
  static create(options: SharedMemoryCreateOptions): SharedMemory {
    const { name, size } = options ?? {};
    if (typeof size !== "number") throw new TypeError(`Cannot create shared memory: size must be a number of bytes`);
    if (!Number.isInteger(size) || size <= 0) {
      throw new RangeError(`Cannot create shared memory: size must be an integer > 0, not ${size}`);
    }
    if (name !== undefined) return SharedMemory.#create(name, checkName(name, "create shared memory"), size);
    for (;;) {
      const auto = randomName();
      try {
        return SharedMemory.#create(auto, encodeName(auto)!, size);
      } catch (error) {
        if (!(error instanceof FileExistsError)) throw error;
      }
    }
  }

  static #create(name: string, bytes: Uint8Array, size: number): SharedMemory {
    const block = size > MAX_SIZE ? "full" : createBlock(bytes, size);
    if (typeof block !== "string") return new SharedMemory(name, block);
    return fail(block, `create shared memory "${name}" of ${size} bytes`, name);
  }

  /**
   * Attach to the block named `name` without blocking this thread.
   *
   * @throws {FileNotFoundError} when no block has that name (never created, or unlinked)
   */
  static async attach(name: string): Promise<SharedMemory> {
    const bytes = checkName(name, "attach to shared memory");
    const block = await attachBlockAsync(bytes);
    if (typeof block === "string") return fail(block, `attach to shared memory "${name}"`, name);
    return new SharedMemory(name, block);
  }

  /**
   * Attach to the block named `name`. The name table's lock is held for microseconds, so
   * this may wait that long; it works on any thread.
   *
   * @throws {FileNotFoundError} when no block has that name (never created, or unlinked)
   */
  static attachSync(name: string): SharedMemory {
    const bytes = checkName(name, "attach to shared memory");
    const block = attachBlock(bytes);
    if (typeof block === "string") return fail(block, `attach to shared memory "${name}"`, name);
    return new SharedMemory(name, block);
  }

  /** The block's name. */
  get name(): string {
    return this.#name;
  }

  /** Size in bytes, as created. */
  get size(): number {
    return this.#block.size;
  }

  /**
   * The block's bytes: a view of the shared memory itself, the same in every handle.
   *
   * @throws {InvalidStateError} once this handle is closed
   */
  get buf(): Uint8Array {
    if (this.#buf === null) {
      throw new InvalidStateError(`Cannot use shared memory "${this.#name}": this handle is closed`);
    }
    return this.#buf;
  }

  /** Whether this handle is closed. */
  get closed(): boolean {
    return this.#buf === null;
  }

  /** Close this handle; other handles stay usable. Idempotent. */
  close(): void {
    if (this.#buf === null) return;
    this.#buf = null;
    collected.unregister(this.#token!);
    this.#token = null;
    closeBlock(this.#block.index, this.#block.generation);
  }

  /**
   * Remove the block's name, so it can no longer be attached; its memory is reused once
   * every handle is closed. Does not close this handle.
   *
   * @throws {FileNotFoundError} when the block was already unlinked
   */
  unlink(): void {
    const failure = unlinkBlock(this.#block.index, this.#block.generation);
    if (failure !== null) fail(failure, `unlink shared memory "${this.#name}"`, this.#name);
  }

  /** Close this handle (`using shm = SharedMemory.create(...)`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** A short description, like Python's repr. */
  toString(): string {
    return `SharedMemory(${JSON.stringify(this.#name)}, size=${this.size})`;
  }

  /**
   * Describe this handle for another thread, which gets a handle of its own on the same block.
   *
   * @throws {InvalidStateError} when this handle is closed
   */
  [toShared](): SharedState {
    if (this.#buf === null) {
      throw new InvalidStateError(`Cannot send shared memory "${this.#name}" to another thread: this handle is closed`);
    }
    const state: SharedMemoryState = {
      name: this.#name,
      index: this.#block.index,
      generation: this.#block.generation,
    };
    return { kind: KIND, module: import.meta.url, state };
  }

  static {
    registerShareable(KIND, (state: SharedMemoryState) => {
      const block = reopenBlock(state.index, state.generation);
      if (typeof block === "string") {
        return fail(
          block,
          `receive shared memory "${state.name}": every handle was closed after it was sent`,
          state.name,
        );
      }
      return new SharedMemory(state.name, block);
    });
  }
}

function fail(failure: Failure, what: string, name: string): never {
  switch (failure) {
    case "exists":
      throw new FileExistsError(`Cannot ${what}: a block of that name already exists`, name);
    case "not found":
      throw new FileNotFoundError(`Cannot ${what}: not found (never created, or unlinked)`, name);
    case "full":
      throw new RangeError(
        `Cannot ${what}: it does not fit in the shared arena (${arena().maxByteLength} bytes for all blocks together)`,
      );
    case "no slot":
      throw new RangeError(`Cannot ${what}: too many blocks exist at once; unlink some first`);
  }
}

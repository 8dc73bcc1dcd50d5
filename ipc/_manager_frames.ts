// Framing for every manager transport: each message is a little-endian u32 length and
// that many bytes. A reader takes bytes as they come (a ring's free run, a TCP chunk)
// and hands over whole frames; a length over the limit means the stream is garbage.

/** Largest frame a manager accepts: larger ones close the connection that sent them. */
export const MAX_FRAME = 256 * 1024 * 1024;

/** The 4-byte header for a frame of `length` bytes. */
export function frameHeader(length: number): Uint8Array {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, length, true);
  return h;
}

/** Copies up to `max` bytes into `dst` at `at`, returning how many it copied. */
export type ByteSource = (dst: Uint8Array, at: number, max: number) => number;

/** Frames up to this size are assembled in one reused buffer instead of a new one each. */
const SCRATCH = 64 * 1024;

/**
 * Receives one whole frame: its bytes are `frame[0, length)`, valid only during the call
 * (the buffer is reused for the next frame); copy them to keep them.
 */
export type FrameHandler = (frame: Uint8Array, length: number) => void;

/** Reassembles frames from a byte stream that arrives in pieces of any size. */
export class FrameAssembler {
  readonly #header = new Uint8Array(4);
  #headerFilled = 0;
  #scratch: Uint8Array | null = null;
  #frame: Uint8Array | null = null;
  #length = 0;
  #filled = 0;
  /** Largest frame accepted; may be raised once a peer is trusted. */
  max: number;

  constructor(max: number = MAX_FRAME) {
    this.max = max;
  }

  /** Whether a frame has been started but not finished. */
  get partial(): boolean {
    return this.#frame !== null || this.#headerFilled > 0;
  }

  /**
   * Take what `source` has and call `onFrame` for each whole frame; returns the number of frames.
   *
   * @throws {RangeError} when a frame announces more than the limit
   */
  feed(source: ByteSource, onFrame: FrameHandler): number {
    let frames = 0;
    for (;;) {
      if (this.#frame === null) {
        const h = this.#header;
        this.#headerFilled += source(h, this.#headerFilled, 4 - this.#headerFilled);
        if (this.#headerFilled < 4) return frames;
        const length = (h[0] | h[1] << 8 | h[2] << 16 | h[3] << 24) >>> 0;
        this.#headerFilled = 0;
        if (length > this.max) {
          throw new RangeError(`Cannot read a manager frame of ${length} bytes: the limit is ${this.max}`);
        }
        this.#frame = length <= SCRATCH ? (this.#scratch ??= new Uint8Array(SCRATCH)) : new Uint8Array(length);
        this.#length = length;
        this.#filled = 0;
      }
      const frame = this.#frame;
      const length = this.#length;
      if (this.#filled < length) this.#filled += source(frame, this.#filled, length - this.#filled);
      if (this.#filled < length) return frames;
      this.#frame = null;
      frames++;
      onFrame(frame, length);
    }
  }

  /** Feed one received chunk. */
  push(chunk: Uint8Array, onFrame: FrameHandler): number {
    let pos = 0;
    return this.feed((dst, at, max) => {
      const n = Math.min(max, chunk.length - pos);
      dst.set(chunk.subarray(pos, pos + n), at);
      pos += n;
      return n;
    }, onFrame);
  }
}

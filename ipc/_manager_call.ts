// One request being served: the object it targets answers it at once, or keeps it
// (a queue get, a lock acquire) and answers later, or drops it when the client cancels
// or goes away. Nothing in the server ever blocks its thread.

/** Returned by a served method that will answer through the call later. */
export const PENDING: unique symbol = Symbol("pending");

/** One client connection as the server sees it (a thread's channel or a TCP socket). */
export interface Peer {
  /** Queue the frame `frame[0, length)` for this client; the buffer is reused after the call. */
  send(frame: Uint8Array, length: number): void;
  /** Set once the client is gone: nothing may be handed to it any more. */
  closed: boolean;
  /** Calls still waiting for an answer, by call id. */
  readonly waiting: Map<number, Call>;
}

/** How a call's answer is turned into a frame; the server provides it. */
export interface Replier {
  ok(peer: Peer, id: number, value: unknown): void;
  error(peer: Peer, id: number, error: unknown, cancelled: boolean): void;
}

/** A request being served. */
export class Call {
  readonly peer: Peer;
  readonly id: number;
  #replier: Replier;
  #done = false;
  #cancel: ((gone: boolean) => void) | null = null;

  constructor(replier: Replier, peer: Peer, id: number) {
    this.#replier = replier;
    this.peer = peer;
    this.id = id;
  }

  /** Whether an answer was sent (or the call was dropped). */
  get done(): boolean {
    return this.#done;
  }

  /** Answer with a value. Later answers are ignored. */
  reply(value: unknown): void {
    if (!this.#finish()) return;
    this.#replier.ok(this.peer, this.id, value);
  }

  /** Answer with an error, raised in the caller with its class and message. */
  fail(error: unknown): void {
    if (!this.#finish()) return;
    this.#replier.error(this.peer, this.id, error, false);
  }

  /**
   * Keep the call open; `cancel` undoes whatever it waits in (removes a waiter, clears a
   * timer) when the client cancels (`gone` false) or disconnects (`gone` true).
   */
  keep(cancel: (gone: boolean) => void): typeof PENDING {
    this.#cancel = cancel;
    this.peer.waiting.set(this.id, this);
    return PENDING;
  }

  /** The client gave up on the call: undo it and say so. */
  cancel(): void {
    if (this.#done) return;
    this.#cancel?.(false);
    if (!this.#finish()) return;
    this.#replier.error(this.peer, this.id, new Error("cancelled"), true);
  }

  /** The client is gone: undo the call without answering. */
  drop(): void {
    if (this.#done) return;
    this.#cancel?.(true);
    this.#finish();
  }

  #finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    if (this.#cancel !== null) this.peer.waiting.delete(this.id);
    this.#cancel = null;
    return true;
  }
}

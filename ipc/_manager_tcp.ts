// The manager over TCP, for clients in other OS processes or on other machines. Before
// any request, both sides prove they know the authkey without sending it, as Python's
// connection.deliver_challenge / answer_challenge do: each sends a random challenge and
// checks the HMAC the other returns. A client with a wrong key is refused before it can
// read or call anything; a garbage or oversized frame closes only its own connection.
import { equalBytes, hmacSha256, randomBytes } from "../_runtime/crypto.ts";
import { connect, listen, type StreamServer, type StreamSocket } from "../_runtime/net.ts";
import { AuthenticationError, EOFError, TimeoutError } from "../errors.ts";
import type { Call, Peer } from "./_manager_call.ts";
import { FrameAssembler, type FrameHandler, frameHeader, MAX_FRAME } from "./_manager_frames.ts";
import type { ManagerServer } from "./_manager_server.ts";

/** Where a remote manager listens and the key its clients must know. */
export interface TcpAddress {
  host: string;
  port: number;
  authkey: Uint8Array;
}

const CHALLENGE = new TextEncoder().encode("#CHALLENGE#");
const WELCOME = new TextEncoder().encode("#WELCOME#");
const FAILURE = new TextEncoder().encode("#FAILURE#");
const NONCE = 32;
/** Handshake frames are small; anything larger is not a manager client. */
const HANDSHAKE_MAX = 256;
const HANDSHAKE_MS = 10_000;

function framed(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  out.set(frameHeader(payload.length));
  out.set(payload, 4);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Frames read from a socket: awaited one by one during the handshake, then pushed to a handler. */
export class SocketFrames {
  readonly #asm = new FrameAssembler(HANDSHAKE_MAX);
  readonly #queue: Uint8Array[] = [];
  #waiter: ((frame: Uint8Array | Error) => void) | null = null;
  #ended: Error | null = null;
  #handler: FrameHandler | null = null;
  readonly #socket: StreamSocket;

  constructor(socket: StreamSocket, what: string) {
    this.#socket = socket;
    socket.onData((chunk) => {
      try {
        this.#asm.push(chunk, (f, n) => this.#handler !== null ? this.#handler(f, n) : this.#arrive(f.slice(0, n)));
      } catch (error) {
        this.#end(error as Error);
        socket.close();
      }
    });
    socket.onClose(() => this.#end(new EOFError(`Cannot read from ${what}: the connection was closed`)));
  }

  #arrive(frame: Uint8Array | Error): void {
    if (this.#waiter !== null) {
      const w = this.#waiter;
      this.#waiter = null;
      w(frame);
    } else if (frame instanceof Uint8Array) this.#queue.push(frame);
  }

  #end(error: Error): void {
    if (this.#ended !== null) return;
    this.#ended = error;
    this.#arrive(error);
  }

  /** The next frame of the handshake. */
  next(what: string): Promise<Uint8Array> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#ended !== null) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(new TimeoutError(`Cannot ${what}: the handshake took longer than ${HANDSHAKE_MS} ms`));
        this.#socket.close();
      }, HANDSHAKE_MS);
      this.#waiter = (frame) => {
        clearTimeout(timer);
        if (frame instanceof Error) reject(frame);
        else resolve(frame);
      };
    });
  }

  /** Hand every later frame to `handler`, allowing frames of any size up to the limit. */
  handTo(handler: FrameHandler): void {
    this.#asm.max = MAX_FRAME;
    this.#handler = handler;
    for (const frame of this.#queue.splice(0)) handler(frame, frame.length);
  }
}

async function deliverChallenge(socket: StreamSocket, frames: SocketFrames, key: Uint8Array, what: string) {
  const nonce = randomBytes(NONCE);
  socket.write(framed(concat(CHALLENGE, nonce)));
  const digest = await frames.next(what);
  if (equalBytes(digest, hmacSha256(key, nonce))) {
    socket.write(framed(WELCOME));
    return;
  }
  socket.write(framed(FAILURE));
  throw new AuthenticationError(`Cannot ${what}: the peer does not know the authkey`);
}

async function answerChallenge(socket: StreamSocket, frames: SocketFrames, key: Uint8Array, what: string) {
  const challenge = await frames.next(what);
  const prefix = challenge.subarray(0, CHALLENGE.length);
  if (!equalBytes(prefix, CHALLENGE)) {
    throw new AuthenticationError(`Cannot ${what}: the peer sent no challenge; is it a manager?`);
  }
  socket.write(framed(hmacSha256(key, challenge.subarray(CHALLENGE.length))));
  const verdict = await frames.next(what);
  if (!equalBytes(verdict, WELCOME)) {
    throw new AuthenticationError(`Cannot ${what}: the authkey was refused`);
  }
}

class SocketPeer implements Peer {
  closed = false;
  readonly waiting: Map<number, Call> = new Map();
  constructor(readonly socket: StreamSocket) {}
  send(frame: Uint8Array, length: number): void {
    this.socket.write(frame.slice(0, length));
  }
}

/**
 * Serve `server` on `address` until the returned listener is closed.
 *
 * @throws {Error} when the address cannot be bound
 */
export function serveTcp(server: ManagerServer, address: TcpAddress): Promise<StreamServer> {
  return listen(address.host, address.port, (socket) => {
    const what = `accept a manager client from ${socket.peer}`;
    const frames = new SocketFrames(socket, what);
    (async () => {
      await deliverChallenge(socket, frames, address.authkey, what);
      await answerChallenge(socket, frames, address.authkey, what);
    })().then(() => {
      const peer = new SocketPeer(socket);
      server.addPeer(peer);
      socket.onClose(() => server.dropPeer(peer));
      frames.handTo((frame, length) => {
        try {
          server.handle(peer, frame, length);
        } catch {
          // A malformed request: this client speaks something else; the others go on.
          socket.close();
        }
      });
    }, () => socket.close());
  });
}

/**
 * Connect to the manager at `address` and pass the handshake both ways.
 *
 * @throws {AuthenticationError} when either side does not know the key
 * @throws {Error} when the connection is refused
 */
export async function connectTcp(address: TcpAddress): Promise<{ socket: StreamSocket; frames: SocketFrames }> {
  const where = `${address.host}:${address.port}`;
  const what = `connect to the manager at ${where}`;
  const socket = await connect(address.host, address.port);
  const frames = new SocketFrames(socket, `the manager at ${where}`);
  try {
    await answerChallenge(socket, frames, address.authkey, what);
    await deliverChallenge(socket, frames, address.authkey, what);
  } catch (error) {
    socket.close();
    throw error;
  }
  return { socket, frames };
}

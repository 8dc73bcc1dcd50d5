// TCP streams for the manager's remote clients. node:net listens and connects on Node,
// Deno and Bun alike; this file keeps the manager away from its event-emitter surface.
import * as net from "node:net";

/** One open TCP connection. */
export interface StreamSocket {
  /** Queue bytes for sending. */
  write(bytes: Uint8Array): void;
  /** Called with each chunk received. */
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Called once when the connection has ended, for whatever reason. */
  onClose(listener: () => void): void;
  /** Close the connection at once. */
  close(): void;
  /** Whether the socket keeps the program alive. */
  ref(on: boolean): void;
  /** The peer as `host:port`. */
  readonly peer: string;
}

/** A listening TCP server. */
export interface StreamServer {
  /** The port actually bound (useful after asking for port 0). */
  readonly port: number;
  /** The host bound. */
  readonly host: string;
  /** Stop accepting and close every open connection. */
  close(): Promise<void>;
  /** Whether the listener keeps the program alive. */
  ref(on: boolean): void;
}

function wrap(socket: net.Socket): StreamSocket {
  socket.setNoDelay(true);
  const closers: (() => void)[] = [];
  let closed = false;
  const fire = () => {
    if (closed) return;
    closed = true;
    for (const fn of closers.splice(0)) fn();
  };
  socket.on("close", fire);
  // An error is always followed by close; the listener keeps it from being thrown.
  socket.on("error", () => socket.destroy());
  return {
    write: (bytes) => void (closed || socket.write(bytes)),
    onData: (listener) => void socket.on("data", (d: Uint8Array) => listener(d)),
    onClose: (listener) => {
      if (closed) listener();
      else closers.push(listener);
    },
    close: () => {
      socket.destroy();
      fire();
    },
    ref: (on) => void (on ? socket.ref() : socket.unref()),
    peer: `${socket.remoteAddress}:${socket.remotePort}`,
  };
}

/**
 * Listen on `host:port` (port 0 picks a free one).
 *
 * @throws {Error} when the address cannot be bound
 */
export function listen(
  host: string,
  port: number,
  onConnection: (socket: StreamSocket) => void,
): Promise<StreamServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    onConnection(wrap(socket));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        host,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
        ref: (on) => void (on ? server.ref() : server.unref()),
      });
    });
  });
}

/**
 * Connect to `host:port`.
 *
 * @throws {Error} when the connection is refused or fails
 */
export function connect(host: string, port: number): Promise<StreamSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(wrap(socket));
    });
  });
}

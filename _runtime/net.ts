// TCP streams for the manager's remote clients, and Unix sockets for process-context
// pipes. node:net listens and connects on Node, Deno and Bun alike; this file keeps the
// rest of the package away from its event-emitter surface.
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** One open TCP connection. */
export interface StreamSocket {
  /** Queue bytes for sending; `sent` is called once they have left this process (or failed to). */
  write(bytes: Uint8Array, sent?: () => void): void;
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
    write: (bytes, sent) => {
      if (closed) sent?.();
      else socket.write(bytes, sent === undefined ? undefined : () => sent());
    },
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

/** A server on a Unix socket in a directory only this user can enter. */
export interface LocalServer {
  /** The socket's path, for {@linkcode connectLocal}. */
  readonly path: string;
  /** Stop accepting, close every open connection and remove the socket. */
  close(): Promise<void>;
  /** Whether the server and its connections keep the program alive. */
  ref(on: boolean): void;
}

const localDirs = new Set<string>();
let localExitHook = false;

/**
 * Listen on a fresh Unix socket in a private directory (mode 0700 from `mkdtemp`, so only
 * this user's processes can connect); the directory goes when the server closes or this
 * program exits. Node binds at once; a client that comes before another runtime has
 * bound retries (see {@linkcode connectLocal}).
 */
export function listenLocal(onConnection: (socket: StreamSocket) => void): LocalServer {
  const dir = mkdtempSync(join(tmpdir(), "mproc-"));
  const path = join(dir, "pipe.sock");
  localDirs.add(dir);
  if (!localExitHook) {
    localExitHook = true;
    const removeAll = () => {
      for (const d of localDirs.values()) rmSync(d, { recursive: true, force: true });
      localDirs.clear();
    };
    process.on("exit", removeAll);
    // `deno test` ends without the exit event; its window's unload comes.
    (globalThis as Partial<EventTarget>).addEventListener?.("unload", removeAll);
  }
  const sockets = new Set<net.Socket>();
  let referenced = true;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    if (!referenced) socket.unref();
    socket.on("close", () => sockets.delete(socket));
    onConnection(wrap(socket));
  });
  server.on("error", () => {});
  server.listen(path);
  return {
    path,
    close: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          localDirs.delete(dir);
          done();
        });
      }),
    ref: (on) => {
      referenced = on;
      if (on) server.ref();
      else server.unref();
      // A destroyed socket not yet closed would queue a listener per call (Node's ref()).
      for (const s of sockets) if (!s.destroyed) on ? s.ref() : s.unref();
    },
  };
}

/** How long a client keeps trying a local socket that is not bound yet. */
const LOCAL_CONNECT_MS = 5_000;

/**
 * Connect to a {@linkcode listenLocal} server.
 *
 * @throws {Error} when nothing listens at `path` within a few seconds
 */
export async function connectLocal(path: string): Promise<StreamSocket> {
  const until = performance.now() + LOCAL_CONNECT_MS;
  for (let delay = 5;; delay = Math.min(delay * 2, 200)) {
    try {
      return await new Promise<StreamSocket>((resolve, reject) => {
        const socket = net.connect({ path });
        socket.once("error", reject);
        socket.once("connect", () => {
          socket.off("error", reject);
          resolve(wrap(socket));
        });
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if ((code !== "ENOENT" && code !== "ECONNREFUSED") || performance.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

// Redis clients for BullMQ. BullMQ 6 leaves ioredis optional and, loaded as ESM, wants
// ready-made clients; each Queue, Worker and QueueEvents gets its own, because a blocking
// read holds its connection.
import { Redis } from "ioredis";

/** Where Redis listens: a TCP address or a Unix socket. */
export type RedisConnection =
  | {
    /** @default {"127.0.0.1"} */
    host?: string;
    /** @default {6379} */
    port?: number;
    /** Password, when Redis asks for one. */
    password?: string;
  }
  | {
    /** Path of the Unix socket. */
    path: string;
    /** Password, when Redis asks for one. */
    password?: string;
  };

/**
 * Check a connection option.
 *
 * @throws {TypeError} when it is not `{ host, port }` or `{ path }`
 */
export function checkConnection(connection: unknown, what: string): asserts connection is RedisConnection {
  const c = connection as Record<string, unknown> | null | undefined;
  const ok = typeof c === "object" && c !== null
    && ("path" in c
      ? typeof c.path === "string" && c.path !== ""
      : (c.host === undefined || typeof c.host === "string")
        && (c.port === undefined || (Number.isInteger(c.port) && (c.port as number) > 0)));
  if (!ok) {
    throw new TypeError(
      `Cannot ${what}: the connection must be { host, port } or { path } of a Redis server, got ${
        JSON.stringify(connection)
      }`,
    );
  }
}

/** A new client; BullMQ requires `maxRetriesPerRequest: null` for blocking commands. */
export function redisClient(connection: RedisConnection): Redis {
  const client = "path" in connection
    ? new Redis({ path: connection.path, password: connection.password, maxRetriesPerRequest: null })
    : new Redis({
      host: connection.host ?? "127.0.0.1",
      port: connection.port ?? 6379,
      password: connection.password,
      maxRetriesPerRequest: null,
    });
  // ioredis reconnects by itself and reports each failed attempt as an "error" event; an
  // emitter with no listener would throw it out of the event loop instead.
  client.on("error", () => {});
  return client;
}

/** Close a client, waiting for its replies; a client already gone is fine. */
export async function closeClient(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/**
 * Parse a `--redis` argument: `host:port`, `redis://host:port`, a port alone, or a Unix
 * socket path (`/run/redis.sock`, `unix:///run/redis.sock`).
 *
 * @throws {TypeError} when it is none of those
 */
export function parseRedisAddress(text: string): RedisConnection {
  if (text.startsWith("unix://")) return { path: text.slice("unix://".length) };
  if (text.startsWith("/")) return { path: text };
  if (/^\d+$/.test(text)) return { port: Number(text) };
  const match = /^(?:redis:\/\/)?(?:[^@/]*@)?([^:/]+)(?::(\d+))?\/?$/.exec(text);
  if (match === null) {
    throw new TypeError(`Cannot read --redis "${text}": expected host:port, redis://host:port or a socket path`);
  }
  return { host: match[1], port: match[2] === undefined ? 6379 : Number(match[2]) };
}

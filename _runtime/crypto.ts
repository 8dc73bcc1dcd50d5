// Keyed hashing and random bytes for authentication handshakes (node:crypto works on
// Node, Deno and Bun alike).
import * as crypto from "node:crypto";

/** `n` cryptographically random bytes. */
export function randomBytes(n: number): Uint8Array {
  return new Uint8Array(crypto.randomBytes(n));
}

/** HMAC-SHA256 of `message` under `key`. */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(crypto.createHmac("sha256", key).update(message).digest());
}

/** Compare two byte strings in time that does not depend on where they differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

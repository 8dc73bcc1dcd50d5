import { makeRuntime, nativeLaunch } from "./_common.ts";
import type { Runtime } from "./types.ts";

/** Build the Deno adapter. */
export function createRuntime(): Runtime {
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno;
  // Deno loses messages when a port is both listened to and polled with
  // receiveMessageOnPort (seen with Deno 2.9), so its workers get no pollable inbox.
  return makeRuntime("deno", { ...deno.version }, nativeLaunch, undefined, false);
}

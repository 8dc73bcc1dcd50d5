import { makeRuntime, nativeLaunch } from "./_common.ts";
import type { Runtime } from "./types.ts";

/** Build the Deno adapter. */
export function createRuntime(): Runtime {
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno;
  return makeRuntime("deno", { ...deno.version }, nativeLaunch);
}

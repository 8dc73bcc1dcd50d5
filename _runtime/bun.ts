import process from "node:process";
import { addressSpaceLimit } from "./_child_process.ts";
import { makeRuntime, nativeLaunch } from "./_common.ts";
import type { Runtime } from "./types.ts";

/** Build the Bun adapter. */
export function createRuntime(): Runtime {
  // deno-lint-ignore no-explicit-any
  const bun = (globalThis as any).Bun;
  return makeRuntime(
    "bun",
    { bun: bun.version, revision: bun.revision, node: process.versions.node },
    nativeLaunch,
    undefined,
    true,
    undefined,
    addressSpaceLimit,
  );
}

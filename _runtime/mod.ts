/**
 * The runtime adapter: the only code that knows whether it runs on Node, Deno or Bun.
 * The choice is made once, by feature test, when this module loads.
 *
 * @module
 */
import { createRuntime as bun } from "./bun.ts";
import { createRuntime as deno } from "./deno.ts";
import { createRuntime as node } from "./node.ts";
import type { Runtime } from "./types.ts";

export type {
  ForkOptions,
  ParentPort,
  ProcessHandle,
  ProcessParentPort,
  Runtime,
  RuntimeName,
  SpawnOptions,
  WorkerHandle,
} from "./types.ts";

function detect(): Runtime {
  if ("Deno" in globalThis) return deno();
  if ("Bun" in globalThis) return bun();
  return node();
}

/** The adapter for the runtime this program runs on. */
export const runtime: Runtime = detect();

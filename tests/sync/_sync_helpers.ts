// Helpers shared by the sync tests: run workers to completion and time a refused wait.
import assert from "node:assert/strict";
import { runtime } from "../../_runtime/mod.ts";
import { Process } from "../../process/mod.ts";
import type { TaskRef } from "../../task.ts";
import { within } from "../_helpers.ts";

/** Bound on any one test's waits for workers. */
export const LIMIT = 60_000;

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => unknown;

/** Start one worker per argument list and resolve once all have exited with code 0. */
export async function runAll<F extends AnyFunction>(target: TaskRef<F>, argLists: Parameters<F>[]): Promise<void> {
  const ps = argLists.map((args) => new Process({ target, args }));
  for (const p of ps) p.start();
  await within(Promise.all(ps.map((p) => p.join())), LIMIT, `workers running ${target.name}`);
  for (const p of ps) {
    assert.equal(p.exitCode, 0, `${p.name} exited with ${p.exitCode}: ${p.error?.stack ?? ""}`);
  }
}

/** Assert that a wait which returned false waited about `timeout` ms, with room for a loaded machine. */
export function assertTimedOut(started: number, timeout: number): void {
  const took = performance.now() - started;
  assert.ok(took >= timeout - 5, `returned after ${took.toFixed(1)} ms, before the ${timeout} ms timeout`);
  assert.ok(took < timeout + 1000, `returned after ${took.toFixed(1)} ms, long after the ${timeout} ms timeout`);
}

/** Run `fn` as if this thread were not allowed to block. */
export function withoutBlocking(fn: () => void): void {
  const saved = runtime.canBlock;
  Object.defineProperty(runtime, "canBlock", { value: false, configurable: true, writable: true });
  try {
    fn();
  } finally {
    Object.defineProperty(runtime, "canBlock", { value: saved, configurable: true, writable: true });
  }
}

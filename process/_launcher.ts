// What a start method provides: one launcher per method, picked from a table in process.ts.
import { entryBeside, runIfBundled } from "../_internal/bundled.ts";
import type { TaskRef } from "../task.ts";

/** What to start: the same for every start method. */
export interface LaunchSpec {
  target: TaskRef;
  args: unknown[];
  name: string;
  path: number[];
  daemon: boolean;
  /** Heap bound of an OS child in MiB. */
  maxHeapMiB?: number;
}

/** A started child as a Process sees it, whatever runs it. */
export interface Started {
  /** The worker's ident, or the OS pid of a child process. */
  readonly ident: number;
  /** The exit code, or `null` while it runs. */
  readonly exitCode: number | null;
  /** Resolves with the exit code once it has ended. */
  readonly exited: Promise<number>;
  /** Stop it: -15 for terminate, -9 for kill. */
  stop(code: number): Promise<number>;
  /** Messages from the child's entry. */
  readonly handle: { onMessage(listener: (message: unknown) => void): void };
}

/** Start a child for a spec; throws TypeError when an argument cannot be sent. */
export type Launcher = (spec: LaunchSpec) => Started;

/** The module every child runs first, whatever starts it. */
export const ENTRY: URL = entryBeside(import.meta.url, "_launcher", "_entry");
/** What {@linkcode ENTRY} runs, for a reserve worker that has it loaded already. */
export const RUNNER: URL = entryBeside(import.meta.url, "_launcher", "_bootstrap");
await runIfBundled("_entry", () => import("./_entry.ts"));

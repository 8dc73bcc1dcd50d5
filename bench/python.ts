// Python multiprocessing, run live: bench/python/mp_bench.py with the same sizes as ours.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Sizes } from "./_config.ts";

/** Python's figures per start method, and its version. */
export interface PythonResults {
  version: string | null;
  fork: Record<string, number> | null;
  spawn: Record<string, number> | null;
  /** Why a start method has no figures. */
  errors: Record<string, string>;
}

const SCRIPT = fileURLToPath(new URL("./python/mp_bench.py", import.meta.url));

function runMethod(
  method: string,
  s: Sizes,
  only: ReadonlySet<string> | null,
): { version: string; figures: Record<string, number> } {
  const onlyArgs = only === null ? [] : ["--only", [...only].join(",")];
  const r = spawnSync("python3", [SCRIPT, "--method", method, "--sizes", JSON.stringify(s), ...onlyArgs], {
    encoding: "utf8",
    timeout: 5 * 60_000,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`python3 ${method} exited with ${r.status}: ${r.stderr.trim().slice(-500)}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  return { version: out.python, figures: out.figures };
}

/** Run the Python side for fork and spawn; a failure leaves that method null, with the reason. */
export function measurePython(
  s: Sizes,
  log: (line: string) => void,
  only: ReadonlySet<string> | null = null,
): PythonResults {
  const res: PythonResults = { version: null, fork: null, spawn: null, errors: {} };
  for (const method of ["fork", "spawn"] as const) {
    try {
      const { version, figures } = runMethod(method, s, only);
      res.version = version;
      res[method] = figures;
      log(`python ${method}: ${JSON.stringify(figures)}`);
    } catch (error) {
      res.errors[method] = (error as Error).message;
      log(`python ${method} skipped: ${(error as Error).message}`);
    }
  }
  return res;
}

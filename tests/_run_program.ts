// Run a whole program on the runtime the tests run on, to check what happens at exit.
import { spawn } from "node:child_process";
import process from "node:process";
import { runtime } from "../_runtime/mod.ts";

/**
 * Run `file` under the current runtime with `argv`; resolve with its exit code and output,
 * or kill it after `ms`.
 */
export function runProgram(
  file: URL,
  ms: number,
  argv: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  const path = file.pathname;
  const args = runtime.name === "node"
    ? ["--import", "tsx", path, ...argv]
    : runtime.name === "deno"
    ? ["run", "-A", path, ...argv]
    : [path, ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, ms);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

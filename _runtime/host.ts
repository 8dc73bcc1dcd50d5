// The few facts about the host program that a command-line worker needs: its folder, its
// arguments, whether a file exists, and the signals that ask it to stop. node:process and
// node:fs offer these on Node, Deno and Bun alike.
import { existsSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The program's working directory. */
export function cwd(): string {
  return process.cwd();
}

/** The program's own arguments (after the runtime and the script). */
export function programArgs(): string[] {
  return process.argv.slice(2);
}

/** Whether the `file:` URL names an existing file. */
export function fileExists(url: string): boolean {
  return existsSync(fileURLToPath(url));
}

/** Call `listener` once on SIGINT or SIGTERM; returns a function that stops listening. */
export function onStopSignal(listener: (signal: string) => void): () => void {
  const signals = ["SIGINT", "SIGTERM"] as const;
  const handler = (signal: string) => {
    stop();
    listener(signal);
  };
  const stop = () => {
    for (const signal of signals) process.off(signal, handler);
  };
  for (const signal of signals) process.on(signal, handler);
  return stop;
}

/** Set the exit code the program ends with. */
export function setExitCode(code: number): void {
  process.exitCode = code;
}

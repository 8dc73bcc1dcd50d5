// The arguments of the worker command line.
import { parseRedisAddress } from "./_connection.ts";
import type { RunWorkerOptions } from "./run_worker.ts";

/** How to call the command. */
export const USAGE = `usage: mproc worker --redis <host:port | socket path> --queue <name>
                    [--concurrency <threads>] [--root <folder>]
                    [--lock-duration <ms>] [--stalled-interval <ms>] [--max-stalled-count <n>]`;

const NUMBERS: Record<string, "concurrency" | "lockDuration" | "stalledInterval" | "maxStalledCount"> = {
  "--concurrency": "concurrency",
  "--lock-duration": "lockDuration",
  "--stalled-interval": "stalledInterval",
  "--max-stalled-count": "maxStalledCount",
};

/**
 * Read the worker's options from its arguments (`worker --redis ... --queue ...`).
 *
 * @throws {TypeError} when an argument is unknown, missing its value or malformed
 */
export function parseWorkerArgs(args: readonly string[]): RunWorkerOptions {
  if (args[0] !== "worker") throw new TypeError(`Cannot start: expected the command "worker"\n${USAGE}`);
  const options: Partial<RunWorkerOptions> = {};
  for (let i = 1; i < args.length; i++) {
    const [flag, inline] = args[i].startsWith("--") && args[i].includes("=")
      ? [args[i].slice(0, args[i].indexOf("=")), args[i].slice(args[i].indexOf("=") + 1)]
      : [args[i], undefined];
    const value = inline ?? args[++i];
    if (value === undefined) throw new TypeError(`Cannot start the worker: ${flag} needs a value\n${USAGE}`);
    if (flag === "--redis") options.connection = parseRedisAddress(value);
    else if (flag === "--queue") options.queue = value;
    else if (flag === "--root") options.root = value;
    else if (Object.hasOwn(NUMBERS, flag)) {
      const n = Number(value);
      if (!Number.isInteger(n)) {
        throw new TypeError(`Cannot start the worker: ${flag} must be an integer, got "${value}"`);
      }
      options[NUMBERS[flag]] = n;
    } else throw new TypeError(`Cannot start the worker: unknown argument "${flag}"\n${USAGE}`);
  }
  if (options.connection === undefined || options.queue === undefined) {
    throw new TypeError(`Cannot start the worker: --redis and --queue are required\n${USAGE}`);
  }
  return options as RunWorkerOptions;
}

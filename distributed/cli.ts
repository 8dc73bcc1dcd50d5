#!/usr/bin/env node
/**
 * The command line of a distributed worker: serve a queue until SIGINT or SIGTERM.
 *
 * ```sh
 * npx mproc worker --redis 127.0.0.1:6379 --queue fib --concurrency 4 --root .
 * deno run -A jsr:@mproc/multiprocessing/distributed/cli worker --redis ... --queue fib
 * bun node_modules/@mproc/multiprocessing/dist/distributed/cli.js worker --redis ... --queue fib
 * ```
 *
 * It prints one line, `ready <queue> <concurrency> <root>`, once it takes jobs.
 *
 * @module
 */
import { onStopSignal, programArgs, setExitCode } from "../_runtime/host.ts";
import { runtime } from "../_runtime/mod.ts";
import { parseWorkerArgs } from "./_worker_args.ts";
import { runWorker, type RunWorkerOptions } from "./run_worker.ts";

async function main(): Promise<void> {
  let options: RunWorkerOptions;
  try {
    options = parseWorkerArgs(programArgs());
  } catch (error) {
    runtime.printError((error as Error).message);
    setExitCode(2);
    return;
  }
  const worker = await runWorker({
    ...options,
    onError: (error) => runtime.printError(`worker: ${error.message}`),
  });
  onStopSignal(() => void worker.close());
  console.log(`ready ${options.queue} ${worker.concurrency} ${worker.root}`);
}

await main();

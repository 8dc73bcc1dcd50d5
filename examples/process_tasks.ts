// Task module for the process, daemon and start-method examples.
import process from "node:process";
import { currentProcess, type Event, exit } from "../mod.ts";

/** Greet `who` `times` times, naming the process that does it (Python's `Process(target=f, args=...)`). */
export function greet(who: string, times: number): void {
  for (let i = 1; i <= times; i++) console.log(`${currentProcess().name}: hello ${who} (${i}/${times})`);
}

/** Fail with an uncaught error: the child exits with code 1 and the parent gets the error. */
export function fail(message: string): void {
  throw new RangeError(message);
}

/** End the process with `code`, as Python's `sys.exit(code)`. */
export function quit(code: number): void {
  exit(code);
}

/** Signal `ready`, then tick forever: only a terminate() or the parent's exit ends it. */
export function forever(ready: Event): Promise<never> {
  ready.set();
  return new Promise(() => setInterval(() => {}, 1_000));
}

/** Some work that ends on its own, after a short while. */
export async function finite(label: string, ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  console.log(`${label}: done`);
}

/** The id of the OS process this task runs in. */
export function osPid(): number {
  return process.pid;
}

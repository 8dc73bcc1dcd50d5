// Worker targets for the process tests.
import process from "node:process";
import { FullError, WorkerDiedError } from "../../errors.ts";
import { activeChildren, currentProcess, exit, parentProcess, Process } from "../../process/mod.ts";
import { Box } from "./box.ts";

export function work(box: Box, n: number): void {
  box.write({ result: n * 2 });
}

export default function main(box: Box): void {
  box.write("default export ran");
}

export async function asyncWork(box: Box, n: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  box.write({ result: n + 1 });
}

export function exitWith(code: number): void {
  exit(code);
}

export function fail(message: string): void {
  throw new RangeError(message);
}

/** Throw what `AbortSignal.timeout()` gives a signal: a DOMException named "TimeoutError". */
export async function failTimeout(): Promise<void> {
  const signal = AbortSignal.timeout(1);
  // The signal's own timer does not keep a worker alive on Node: wait on a timer that does.
  while (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
  throw signal.reason;
}

export function failWorkerDied(): void {
  throw new WorkerDiedError("lost", -9, 42, { cause: new FullError("full", "unsent") });
}

export function failLater(message: string): void {
  setTimeout(() => {
    throw new Error(message);
  }, 1);
}

export class CustomError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CustomError";
  }
}

export function failCustom(): void {
  throw new CustomError("custom failure");
}

/** Raise flag 0, then block until flag 1 is raised (never, unless the test does). */
export function block(box: Box): void {
  box.raise(0);
  box.untilSync(1, 60_000);
}

/** Raise flag 0, then stay busy asynchronously until flag 1 is raised. */
export async function wait(box: Box): Promise<void> {
  box.raise(0);
  await box.until(1, 60_000);
}

export function whoAmI(box: Box): void {
  const me = currentProcess();
  const parent = parentProcess();
  box.write({
    name: me.name,
    ident: me.ident,
    daemon: me.daemon,
    parent: parent && { name: parent.name, ident: parent.ident, alive: parent.isAlive() },
  });
}

export function nested(items: { box: Box }[], deep: { a: { b: Box } }): void {
  items[0].box.write("from nested array");
  deep.a.b.raise(3, 7);
}

const self = new URL(import.meta.url).href;

/** Start a grandchild running whoAmI; report both identities. */
export async function spawnGrandchild(box: Box, inner: Box): Promise<void> {
  const p = new Process({ target: { module: self, name: "whoAmI" }, args: [inner] });
  p.start();
  await p.join();
  box.write({ me: currentProcess().name, childExit: p.exitCode, childIdent: p.ident });
}

/** Start a daemon grandchild that blocks forever and a non-daemon one that waits for flag 1 of `gate`; return. */
export function leaveChildren(box: Box, gate: Box): void {
  const d = new Process({ target: { module: self, name: "block" }, args: [new Box()], daemon: true });
  const n = new Process({ target: { module: self, name: "wait" }, args: [gate] });
  d.start();
  n.start();
  box.write({ daemon: d.ident, nonDaemon: n.ident, active: activeChildren().length });
}

/** Print `text` after `ms` milliseconds. */
export async function printLater(ms: number, text: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  console.log(text);
}

/** Report what arrived when one object holding `box` is passed twice, beside `box` itself. */
export function sameTwice(a: { box: Box }, b: { box: Box }, box: Box): void {
  box.write({ same: a === b, live: b.box instanceof Box, oneBox: a.box === box });
}

/** Call `exit()` with no code. */
export function exitDefault(): void {
  exit();
}

/** Call `exit()` with a code that is not an integer. */
export function exitBadCode(code: unknown): void {
  exit(code as number);
}

/** Report `pid` and `ident` as the child sees them. */
export function reportIds(box: Box): void {
  const me = currentProcess();
  box.write({ pid: me.pid, ident: me.ident });
}

/** Report the environment variable `name` as the child sees it. */
export function reportEnv(box: Box, name: string): void {
  box.write({ value: process.env[name] ?? null });
}

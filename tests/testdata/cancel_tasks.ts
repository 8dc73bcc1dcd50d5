// Worker targets for the cancellation tests: tasks that read currentTask().
import process from "node:process";
import { currentTask } from "../../pool/mod.ts";
import { currentProcess } from "../../process/mod.ts";
import type { Box } from "./box.ts";

/** The input index of the item being run. */
export function itemIndex(_item?: unknown): number {
  return currentTask().index;
}

/** The task's id, index and whether its signal has fired, for one item. */
export function describeTask(_item?: unknown): { id: number; index: number; aborted: boolean } {
  const { id, index, signal } = currentTask();
  return { id, index, aborted: signal.aborted };
}

/** Whether two reads of currentTask() within one task give the same signal. */
export async function sameSignal(): Promise<boolean> {
  const first = currentTask().signal;
  await Promise.resolve();
  return first === currentTask().signal;
}

/** Which worker runs this. */
export function ident(_item?: unknown): number {
  return currentProcess().ident;
}

/** This worker's OS process id. */
export function pid(): number {
  return process.pid;
}

/** Resolve when the task's signal fires, with the reason's name and message (no Box: OS children too). */
export async function awaitAbort(): Promise<string> {
  const { signal } = currentTask();
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  const reason = signal.reason as Error;
  return `${reason.name}: ${reason.message}`;
}

/**
 * Raise flag 0 of `box` (started), wait for the task's signal, write the reason's name and
 * message to `box` (raising flag 1), then return this worker's ident.
 */
export async function heedAbort(box: Box): Promise<number> {
  const { signal } = currentTask();
  box.raise(0);
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  const reason = signal.reason as Error;
  box.write({ name: reason.name, message: reason.message, ident: currentProcess().ident }, 1);
  return currentProcess().ident;
}

/** Raise flag 0 of `box` and block until flag 1, ignoring every abort. */
export function ignoreAbort(box: Box): string {
  box.raise(0);
  box.untilSync(1, 30_000);
  return "done";
}

/** Count the call in word 0 of `counter`; item `wait` then waits for its abort (heedAbort). */
export async function countOrHeed(counter: SharedArrayBuffer, wait: number, box: Box, x: number): Promise<number> {
  Atomics.add(new Int32Array(counter), 0, 1);
  if (x === wait) await heedAbort(box);
  return x;
}

/** Count the call in word 0 of `counter` and return `x`. */
export function countCall(counter: SharedArrayBuffer, x: number): number {
  Atomics.add(new Int32Array(counter), 0, 1);
  return x;
}

/** {@linkcode countOrHeed} of one tuple, returning the item's input index (for imap). */
export async function countOrHeedItem(item: [SharedArrayBuffer, number, Box, number]): Promise<number> {
  await countOrHeed(...item);
  return currentTask().index;
}

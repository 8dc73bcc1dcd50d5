// Worker targets for the cancellation tests: tasks that read currentTask().
import { currentTask } from "../../pool/mod.ts";
import { currentProcess } from "../../process/mod.ts";

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

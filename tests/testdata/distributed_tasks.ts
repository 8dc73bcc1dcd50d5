// Tasks the distributed tests queue; worker hosts import this file under their own root.
import process from "node:process";

export function square(x: number): number {
  return x * x;
}

export function add(a: number, b: number): number {
  return a + b;
}

/** Return `x` after `ms` milliseconds: a job that is still running when its host dies. */
export async function slow(x: number, ms: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return x;
}

/** Like `slow`, and say which worker host ran it. */
export async function slowOnHost(x: number, ms: number): Promise<{ x: number; pid: number }> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { x, pid: process.pid };
}

export function echo<T>(value: T): T {
  return value;
}

/** An error class of the task's own, which no other machine knows. */
export class TaskFailure extends Error {
  readonly code: number;
  constructor(message: string, code: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "TaskFailure";
    this.code = code;
  }
}

export function fail(message: string): never {
  throw new TaskFailure(message, 42, { cause: new RangeError("the root cause") });
}

export function failRange(n: number): never {
  throw new RangeError(`bad n ${n}`);
}

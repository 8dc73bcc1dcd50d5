// Task module for the demo: each function runs in its own worker thread.
import { currentProcess } from "../mod.ts";

export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export function report(n: number): void {
  const started = performance.now();
  const value = fib(n);
  const ms = (performance.now() - started).toFixed(0);
  console.log(`${currentProcess().name} (ident ${currentProcess().ident}): fib(${n}) = ${value} in ${ms} ms`);
}

// Types for manager.mjs: the dict argument is our live proxy, typed loosely here.
export function dictOps(d: unknown, key: string, sab: SharedArrayBuffer, n: number): void;

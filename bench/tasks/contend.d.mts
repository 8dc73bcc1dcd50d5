// Types for contend.mjs: the lock arguments are our live sync objects, typed loosely here
// because bench/ must type-check before sync/ lands.
export function lockIncr(lock: unknown, sab: SharedArrayBuffer, n: number): void;
export function rwMix(rw: unknown, sab: SharedArrayBuffer, n: number, writeEvery: number): number;

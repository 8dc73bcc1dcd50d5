// Types for task.mjs, so TypeScript callers (bench/*.ts) stay checked.
export default function noop<T>(x: T): T;
export { noop };
export function fib(n: number): number;
export function spin(ms: number): number;
export function mapChunk<T>(xs: T[]): T[];
export function empty(): void;
export function arrive(sab: SharedArrayBuffer): void;

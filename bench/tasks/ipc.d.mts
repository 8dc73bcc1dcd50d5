// Types for ipc.mjs: the queue and connection arguments are our live ipc objects, typed
// loosely here so bench/ type-checks on any slice of the library.
export function queueProduce(q: unknown, sab: SharedArrayBuffer, n: number): void;
export function queueProduceBig(q: unknown, sab: SharedArrayBuffer, bytes: number, count: number): void;
export function pipeProduce(conn: unknown, sab: SharedArrayBuffer, n: number): void;
export function queueProduceAsync(q: unknown, ctl: unknown, n: number): Promise<void>;

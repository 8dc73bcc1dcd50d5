// Worker targets for the ipc tests.
import type { Connection } from "../../ipc/connection.ts";
import type { JoinableQueue } from "../../ipc/joinable_queue.ts";
import type { Queue } from "../../ipc/queue.ts";
import type { Box } from "./box.ts";

/** Each producer's values are `id * SPAN + i`, so consumers can tell producers apart. */
export const SPAN = 10_000_000;

/** Put `n` numbers tagged with `id`, blocking where the queue is full. */
export function produce(q: Queue<number | null>, id: number, n: number): void {
  for (let i = 0; i < n; i++) q.putSync(id * SPAN + i);
}

/** The same with the async form. */
export async function produceAsync(q: Queue<number | null>, id: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await q.put(id * SPAN + i);
}

/**
 * Take numbers until `null`; check that each producer's numbers come in order, then put
 * `{ count, sum, ordered }` on `results`.
 */
export function consume(q: Queue<number | null>, results: Queue<unknown>, producers: number): void {
  const last = new Array<number>(producers).fill(-1);
  let count = 0;
  let sum = 0;
  let ordered = true;
  for (;;) {
    const v = q.getSync();
    if (v === null) break;
    const id = Math.floor(v / SPAN);
    const i = v - id * SPAN;
    if (i <= last[id]) ordered = false;
    last[id] = i;
    count++;
    sum += v;
  }
  results.putSync({ count, sum, ordered });
}

/** The same with the async form. */
export async function consumeAsync(q: Queue<number | null>, results: Queue<unknown>, producers: number) {
  const last = new Array<number>(producers).fill(-1);
  let count = 0;
  let sum = 0;
  let ordered = true;
  for (;;) {
    const v = await q.get();
    if (v === null) break;
    const id = Math.floor(v / SPAN);
    const i = v - id * SPAN;
    if (i <= last[id]) ordered = false;
    last[id] = i;
    count++;
    sum += v;
  }
  await results.put({ count, sum, ordered });
}

/** Put one huge typed array, raising flag 0 of `box` first; the test terminates us mid-put. */
export function putHuge(q: Queue<Uint8Array>, box: Box, bytes: number): void {
  const big = new Uint8Array(bytes).fill(9);
  box.raise(0);
  q.putSync(big);
  box.raise(1);
}

/** Take items, add them to flag 2 of `box`, mark each done; stop at `null`. */
export function worker(q: JoinableQueue<number | null>, box: Box): void {
  for (;;) {
    const v = q.getSync();
    if (v === null) {
      q.taskDone();
      return;
    }
    Atomics.add(box.flags, 2, v);
    q.taskDone();
  }
}

/** Take one item and return; used to see a queue passed in args arrive live. */
export function echo(q: Queue<unknown>, out: Queue<unknown>): void {
  out.putSync(q.getSync());
}

/** Reply to each message with the message doubled, until `null`. */
export function pipeEcho(conn: Connection<number | null>): void {
  for (;;) {
    const v = conn.recvSync();
    if (v === null) return;
    conn.sendSync(v * 2);
  }
}

/** Send `0..n-1` and end without closing: the reader sees EOF because this thread ended. */
export function sendThenExit(conn: Connection<number>, n: number): void {
  for (let i = 0; i < n; i++) conn.sendSync(i);
}

/** Send `bytes` bytes of a known pattern as one message. */
export async function sendPattern(conn: Connection<unknown>, bytes: number): Promise<void> {
  await conn.sendBytes(pattern(bytes));
  conn.close();
}

/** `bytes` bytes where byte i is `(i * 31) & 255`. */
export function pattern(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31) & 255;
  return out;
}

// Process targets for our queue and pipe figures: producers in a worker, the consumer on
// the main thread, as in bench/python/mp_bench.py. They receive live library objects (a
// Queue, a Connection) as arguments, so this module imports nothing from the library.
import { finish, ready } from "./ctl.mjs";

/** Put 0..n-1 then null, from the moment the parent says go. */
export function queueProduce(q, sab, n) {
  const ctl = new Int32Array(sab, 0, 8);
  ready(ctl);
  for (let i = 0; i < n; i++) q.putSync(i);
  q.putSync(null);
  finish(ctl);
}

/** Put `count` zeroed byte arrays of `bytes` bytes, like Python's `bytes(size)`. */
export function queueProduceBig(q, sab, bytes, count) {
  const ctl = new Int32Array(sab, 0, 8);
  const payload = new Uint8Array(bytes);
  ready(ctl);
  for (let i = 0; i < count; i++) q.putSync(payload);
  finish(ctl);
}

/** Send 0..n-1 then null on a pipe end. */
export function pipeProduce(conn, sab, n) {
  const ctl = new Int32Array(sab, 0, 8);
  ready(ctl);
  for (let i = 0; i < n; i++) conn.sendSync(i);
  conn.sendSync(null);
  conn.close();
  finish(ctl);
}

/**
 * Put 0..n-1 then null on a process-context queue (async only in an OS child), once the
 * parent answers the ready item with a go item.
 */
export async function queueProduceAsync(q, ctl, n) {
  await ctl.put("ready");
  await ctl.get();
  for (let i = 0; i < n; i++) await q.put(i);
  await q.put(null);
}

/**
 * Take n items from a process-context queue the parent filled, once it says go on `down`;
 * say ready and done on `up` (two queues: the parent's own get must not take its go).
 */
export async function queueConsumeAsync(q, up, down, n) {
  await up.put("ready");
  await down.get();
  for (let i = 0; i < n; i++) await q.get();
  await up.put("done");
}

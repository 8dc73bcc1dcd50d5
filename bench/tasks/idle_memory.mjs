// Memory per idle pool worker, measured once in a fresh process, so that no memory freed
// by earlier workers is reused and hidden: the RSS growth for 4 workers that have booted
// and wait, / 4, printed as JSON. `raw`: bare worker_threads workers; `ours <library URL>`:
// a Pool of 4 with the reserve off, its workers counted in by their initializer.
import process from "node:process";
import { Worker } from "node:worker_threads";

const [mode, lib] = process.argv.slice(2);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mod = mode === "ours" ? await import(lib) : null;
mod?.setReserve(0);
await pause(200);
const before = process.memoryUsage().rss;
let stop;
if (mod === null) {
  const ws = [0, 1, 2, 3].map(() => new Worker(new URL("./idle_worker.mjs", import.meta.url)));
  await Promise.all(ws.map((w) => new Promise((resolve) => w.once("message", resolve))));
  stop = () => Promise.all(ws.map((w) => w.terminate()));
} else {
  const sab = new SharedArrayBuffer(4);
  const counter = new Int32Array(sab);
  const arrive = mod.task(new URL("./task.mjs", import.meta.url), "arrive");
  const pool = new mod.Pool({ processes: 4, initializer: arrive, initargs: [sab] });
  while (Atomics.load(counter, 0) < 4) await pause(5);
  stop = () => pool.terminate();
}
await pause(500);
const mib = (process.memoryUsage().rss - before) / 4 / 2 ** 20;
await stop();
console.log(JSON.stringify({ mib }));

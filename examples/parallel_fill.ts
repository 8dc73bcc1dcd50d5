// A big array filled in parallel: four processes each write their own quarter of one
// SharedArray through its typed-array view. Nothing is copied; the main thread reads the
// result from the same memory.
import { Process, SharedArray, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./shm_tasks.ts")>(new URL("./shm_tasks.ts", import.meta.url));
const N = 4_000_000;

const array = new SharedArray("d", N);
const started = performance.now();
const processes = [0, 1, 2, 3].map((part) => new Process({ target: tasks.fillPart, args: [array, part, 4] }));
for (const p of processes) p.start();
for (const p of processes) await p.join();
const ms = performance.now() - started;

let sum = 0;
for (const x of array.view) sum += x;
let expected = 0;
for (let i = 0; i < N; i++) expected += Math.sin(i);
console.log(`filled ${N} float64 in ${ms.toFixed(0)} ms with 4 processes; sum = ${sum.toFixed(6)}`);
if (sum !== expected) throw new Error(`sum ${sum} differs from ${expected}`);
console.log("matches the serial sum");

// `npm run demo`: four processes, each on its own thread with its own isolate, then a
// pool that spreads CPU-bound work over every core.
import { cpuCount, Pool, Process, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./demo_tasks.ts")>(new URL("./demo_tasks.ts", import.meta.url));

console.log(`MainProcess: starting 4 processes on ${cpuCount()} CPUs`);
const processes = [27, 28, 29, 30].map((n, i) =>
  new Process({ target: tasks.report, args: [n], name: `worker-${i + 1}` })
);
for (const p of processes) p.start();
for (const p of processes) await p.join();
console.log(`MainProcess: exit codes ${processes.map((p) => p.exitCode).join(", ")}`);

const inputs = Array.from({ length: 16 }, () => 30);
let started = performance.now();
const serial = inputs.map((n) => fibHere(n));
const serialMs = performance.now() - started;

await using pool = new Pool({ processes: cpuCount() });
await pool.map(tasks.fib, [25, 25]); // start the workers and warm them up before timing
started = performance.now();
const parallel = await pool.map(tasks.fib, inputs);
const parallelMs = performance.now() - started;
console.log(
  `Pool.map: ${inputs.length} × fib(30) = ${parallel[0]} each, ${serialMs.toFixed(0)} ms on one thread, `
    + `${parallelMs.toFixed(0)} ms on ${cpuCount()} workers (${(serialMs / parallelMs).toFixed(2)}× faster)`,
);
if (parallel.some((v, i) => v !== serial[i])) throw new Error("the pool computed different values");

function fibHere(n: number): number {
  return n < 2 ? n : fibHere(n - 1) + fibHere(n - 2);
}

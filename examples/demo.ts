// `npm run demo`: four processes, each on its own thread with its own isolate.
import { cpuCount, Process, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./demo_tasks.ts")>(new URL("./demo_tasks.ts", import.meta.url));

console.log(`MainProcess: starting 4 processes on ${cpuCount()} CPUs`);
const processes = [27, 28, 29, 30].map((n, i) =>
  new Process({ target: tasks.report, args: [n], name: `worker-${i + 1}` })
);
for (const p of processes) p.start();
for (const p of processes) await p.join();
console.log(`MainProcess: exit codes ${processes.map((p) => p.exitCode).join(", ")}`);

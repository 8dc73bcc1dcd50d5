// A counter shared by four processes, with no Manager: a Value in shared memory, and its
// lock held around each `value += 1` (Python: `with counter.get_lock(): counter.value += 1`).
import { Process, taskModule, Value } from "../mod.ts";

const tasks = taskModule<typeof import("./shm_tasks.ts")>(new URL("./shm_tasks.ts", import.meta.url));
const PER_PROCESS = 25_000;

const counter = new Value("i", 0);
const processes = [1, 2, 3, 4].map(() => new Process({ target: tasks.count, args: [counter, PER_PROCESS] }));
for (const p of processes) p.start();
for (const p of processes) await p.join();

console.log(`counter = ${counter.value} (expected ${4 * PER_PROCESS})`);
if (counter.value !== 4 * PER_PROCESS) throw new Error("the lock let an update through");

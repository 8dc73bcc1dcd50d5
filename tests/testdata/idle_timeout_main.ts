// A program whose pool retires idle workers only after a minute: the pending idle timer must
// not keep it alive.
import { Pool, taskModule } from "../../pool/mod.ts";

const tasks = taskModule<typeof import("./pool_tasks.ts")>(new URL("./pool_tasks.ts", import.meta.url));
const pool = new Pool({ processes: 2, minProcesses: 1, idleTimeout: 60_000 });
console.log(`result ${(await Promise.all([pool.apply(tasks.square, [2]), pool.apply(tasks.square, [3])])).join(" ")}`);

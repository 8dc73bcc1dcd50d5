// A program that uses a pool and returns without closing it: the idle workers must not keep it alive.
import { Pool, taskModule } from "../../pool/mod.ts";

const tasks = taskModule<typeof import("./pool_tasks.ts")>(new URL("./pool_tasks.ts", import.meta.url));
const pool = new Pool({ processes: 2 });
console.log(`result ${await pool.apply(tasks.square, [2])}`);

// A whole program with a warm reserve of OS children: it starts one process-context child
// (so the reserve for that entry exists), warms the reserve, prints the reserve children's
// pids and returns, or with "kill" is killed by SIGKILL. It must exit at once, and take its
// reserve children with it either way.
import process from "node:process";
import { reservedProcessPids } from "../../_internal/process_reserve.ts";
import { Process, setReserve, warmReserve } from "../../process/mod.ts";

setReserve(2);
const tasks = new URL("./os_tasks.ts", import.meta.url).href;
const p = new Process({ target: { module: tasks, name: "osPid" }, startMethod: "process" });
p.start();
await p.join();
if (!(await warmReserve({ timeout: 20_000 }))) throw new Error("the reserve did not warm up");
console.log(JSON.stringify(reservedProcessPids()));
if (process.argv.includes("kill")) process.kill(process.pid, "SIGKILL");

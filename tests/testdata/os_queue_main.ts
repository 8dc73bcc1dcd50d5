// A whole program passing a process-context queue to an OS child, then returning without
// shutting anything down: it must end.
import { getContext } from "../../context.ts";
import { taskModule } from "../../process/mod.ts";

const tasks = taskModule<typeof import("./os_tasks.ts")>(new URL("./os_tasks.ts", import.meta.url));
const ctx = getContext("process");
const queue = await ctx.Queue<number>();
const p = new ctx.Process({ target: tasks.produce, args: [queue as never, 0, 3] });
p.start();
await p.join();
console.log(`got ${[await queue.get(), await queue.get(), await queue.get()].join(",")}`);

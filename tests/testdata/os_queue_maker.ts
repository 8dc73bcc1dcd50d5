// A program that makes a process-context queue, leaves its description in the directory
// argv[2] names for another program, and ends once that program waits on the queue.
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { encodeForProcess } from "../../_internal/shareable.ts";
import { getContext } from "../../context.ts";

const dir = process.argv[2];
const queue = await getContext("process").Queue<number>();
await queue.put(41);
writeFileSync(join(dir, "queue.tmp"), JSON.stringify(encodeForProcess(queue, "queue")));
renameSync(join(dir, "queue.tmp"), join(dir, "queue.json"));
while (!existsSync(join(dir, "waiting"))) await new Promise((resolve) => setTimeout(resolve, 10));
process.exit(0);

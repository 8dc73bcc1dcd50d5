// A Manager holds a dict, a list and a lock in its own thread; four processes update them
// through proxies, as with Python's `multiprocessing.Manager()`.
//
//   node --import tsx examples/manager_dict.ts   |   deno run -A examples/manager_dict.ts   |   bun examples/manager_dict.ts
import { Manager, Process, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./manager_tasks.ts")>(new URL("./manager_tasks.ts", import.meta.url));

await using manager = await Manager.start();
const counts = await manager.dict<string, number>();
const log = await manager.list<string>();
const lock = await manager.Lock();

const texts = ["the cat sat", "the dog sat", "a cat ran", "the end"];
const processes = texts.map((text) => new Process({ target: tasks.countWords, args: [counts, lock, log, text] }));
for (const p of processes) p.start();
for (const p of processes) await p.join();

const sorted = [...await counts.items()].sort(([a], [b]) => a.localeCompare(b));
console.log(`counts: ${sorted.map(([w, n]) => `${w}=${n}`).join(" ")}`);
console.log(`log entries: ${await log.length()}`);

// Errors raised in the manager arrive with their class; the proxy stays usable.
try {
  await counts.pop("zebra");
} catch (error) {
  console.log(`${(error as Error).name}: ${(error as Error).message}`);
}
console.log(`the: ${counts.getSync("the")}`);

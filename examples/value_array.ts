// A Value and an Array in shared memory, as in Python's multiprocessing docs: a child sets
// the number and negates the array in place. Then two processes bump every item of the
// array 500 times each, holding `getLock()` around each pass, so no update is lost.
//
//   node --import tsx examples/value_array.ts   |   deno run -A examples/value_array.ts   |   bun examples/value_array.ts
import { Process, SharedArray, taskModule, Value } from "../mod.ts";

const tasks = taskModule<typeof import("./shm_tasks.ts")>(new URL("./shm_tasks.ts", import.meta.url));

const num = new Value("d", 0.0);
const arr = new SharedArray("i", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
const p = new Process({ target: tasks.negate, args: [num, arr] });
p.start();
await p.join();
console.log(num.value);
console.log(`[${arr.toArray().join(", ")}]`);

const bumpers = [1, 2].map(() => new Process({ target: tasks.bump, args: [arr, 500] }));
for (const b of bumpers) b.start();
for (const b of bumpers) await b.join();
console.log(`after 2 × 500 locked passes: [${arr.toArray().join(", ")}]`);

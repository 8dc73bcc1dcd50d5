// A Pool, as in Python's multiprocessing docs: map, starmap, imap (in order, lazily),
// imapUnordered (as results come), applyAsync with a callback, and a task's error raised
// in the caller. `await using` terminates the pool at the end, as Python's `with Pool()`.
//
//   node --import tsx examples/pool.ts   |   deno run -A examples/pool.ts   |   bun examples/pool.ts
import { Pool, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./pool_tasks.ts")>(new URL("./pool_tasks.ts", import.meta.url));

await using pool = new Pool({ processes: 2 });

console.log(`map: ${await pool.map(tasks.square, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])}`);
console.log(`starmap: ${await pool.starmap(tasks.power, [[2, 3], [3, 2], [10, 0]])}`);

const inOrder: number[] = [];
for await (const v of pool.imap(tasks.slowSquare, [30, 20, 10, 0])) inOrder.push(v);
console.log(`imap: ${inOrder}`);

const asTheyCome: number[] = [];
for await (const v of pool.imapUnordered(tasks.slowSquare, [30, 20, 10, 0])) asTheyCome.push(v);
console.log(`imapUnordered: ${asTheyCome.length} results, sorted: ${asTheyCome.sort((a, b) => a - b)}`);

const called: number[] = [];
const result = pool.applyAsync(tasks.square, [12], { callback: (v) => called.push(v) });
console.log(
  `applyAsync: get() = ${await result.get(10_000)}, successful() = ${result.successful()}, callback saw ${called}`,
);

try {
  await pool.apply(tasks.checkedSqrt, [-1]);
} catch (error) {
  console.log(`apply raised ${(error as Error).name}: ${(error as Error).message}`);
}

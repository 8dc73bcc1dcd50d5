// A Pool, as in Python's multiprocessing docs: map, starmap, imap (in order, lazily),
// imapUnordered (as results come), applyAsync with a callback, and a task's error raised
// in the caller. `await using` terminates the pool at the end, as Python's `with Pool()`.
// Beyond Python: a map drawing a progress bar on stderr, and a generator task streamed.
//
//   node --import tsx examples/pool.ts   |   deno run -A examples/pool.ts   |   bun examples/pool.ts
import process from "node:process";
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

// onProgress hears { done, total } as each chunk's results arrive: enough for a bar.
const squares = await pool.map(tasks.slowSquare, [...Array(20).keys()], {
  chunksize: 2,
  onProgress: ({ done, total = 0 }) => {
    const width = 20;
    const filled = Math.round((width * done) / total);
    process.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`);
  },
});
process.stderr.write("\n");
console.log(`map with a progress bar: ${squares.length} values, the last ${squares.at(-1)}`);

// A generator task streams its yields as it makes them; break would stop it early.
const launch: string[] = [];
for await (const step of pool.stream(tasks.countdown, [3])) launch.push(step);
console.log(`stream: ${launch.join(", ")}`);

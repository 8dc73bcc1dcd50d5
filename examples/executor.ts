// concurrent.futures' ProcessPoolExecutor: submit() returns a Future, asCompleted yields
// futures as they finish, map yields results in order, and a failed task's error is the
// Future's exception. `await using` shuts the executor down at the end, as Python's `with`.
//
//   node --import tsx examples/executor.ts   |   deno run -A examples/executor.ts   |   bun examples/executor.ts
import { asCompleted, ProcessPoolExecutor, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./pool_tasks.ts")>(new URL("./pool_tasks.ts", import.meta.url));

await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });

const future = executor.submit(tasks.square, 7);
console.log(`submit: result() = ${await future.result(10_000)}, done() = ${future.done()}`);

const futures = [30, 0, 15].map((ms) => executor.submit(tasks.slowSquare, ms));
const finished: number[] = [];
for await (const f of asCompleted(futures, { timeout: 10_000 })) finished.push(await f.result());
console.log(`asCompleted: ${finished.length} futures, sorted: ${finished.sort((a, b) => a - b)}`);

const mapped: number[] = [];
for await (const v of executor.map(tasks.square, [1, 2, 3, 4])) mapped.push(v);
console.log(`map: ${mapped}`);

const failed = executor.submit(tasks.checkedSqrt, -4);
const error = (await failed.exception(10_000)) as Error;
console.log(`exception(): ${error.name}: ${error.message}`);

// Producers and consumers over one Queue, as in Python's multiprocessing docs: two
// producer processes put numbers, three consumers square them, the main thread collects.
import { JoinableQueue, Process, Queue, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./ipc_tasks.ts")>(new URL("./ipc_tasks.ts", import.meta.url));

const jobs = new Queue<number | null>({ maxsize: 8 }); // producers wait while 8 jobs are queued
const results = new Queue<[string, number, number]>();

const producers = [0, 50].map((first, i) =>
  new Process({ target: tasks.produce, args: [jobs, first, 50], name: `producer-${i + 1}` })
);
const consumers = [1, 2, 3].map((i) =>
  new Process({ target: tasks.consume, args: [jobs, results], name: `consumer-${i}` })
);
for (const p of [...producers, ...consumers]) p.start();

for (const p of producers) await p.join();
for (const _ of consumers) await jobs.put(null); // one stop sign per consumer
for (const p of consumers) await p.join();

let sum = 0;
const seen = new Set<number>();
while (!results.empty()) {
  const [who, n, square] = await results.get();
  if (!who.startsWith("consumer-")) throw new Error(`unexpected worker ${who}`);
  seen.add(n);
  sum += square;
}
console.log(`squared ${seen.size} numbers, sum ${sum}`);

// A JoinableQueue: join() returns once every task put has been marked done.
const todo = new JoinableQueue<string | null>();
const done = new Queue<string>();
const w = new Process({ target: tasks.worker, args: [todo, done] });
w.start();
for (const word of ["spam", "eggs", "ham"]) await todo.put(word);
await todo.put(null);
await todo.join();
await w.join();
const words: string[] = [];
for (let i = 0; i < 3; i++) words.push(await done.get());
console.log(`all tasks done: ${words.join(" ")}`);

// put on a closed queue fails; get drains what is left, then for-await ends.
done.close();
try {
  await done.put("late");
} catch (error) {
  console.log(`${(error as Error).name}: ${(error as Error).message}`);
}

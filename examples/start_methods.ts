// Start methods, as with Python's `get_context("spawn")`: `getContext("thread")` (the default)
// runs each process on a worker thread of this OS process; `getContext("process")` runs it in
// its own OS process of the same runtime, so a crash or a hard exit there cannot take this
// one down, at the cost of a slower start and no SharedArrayBuffer-based objects.
//
//   node --import tsx examples/start_methods.ts   |   deno run -A examples/start_methods.ts   |   bun examples/start_methods.ts
import process from "node:process";
import { getContext, getStartMethod, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./process_tasks.ts")>(new URL("./process_tasks.ts", import.meta.url));
const demo = taskModule<typeof import("./demo_tasks.ts")>(new URL("./demo_tasks.ts", import.meta.url));

console.log(`default start method: ${getStartMethod()}`);
for (const method of ["thread", "process"] as const) {
  const ctx = getContext(method);

  const p = new ctx.Process({ target: tasks.greet, args: [method, 1], name: `${method}-child` });
  p.start();
  await p.join();

  await using pool = new ctx.Pool({ processes: 1 });
  const [pid] = await pool.map(tasks.osPid, [undefined]);
  const fibs = await pool.map(demo.fib, [10, 20]);
  console.log(
    `${method}: exit code ${p.exitCode}, fib ${fibs.join(" ")}, pool worker ${
      pid === process.pid ? "in this OS process" : "in its own OS process"
    }`,
  );
}

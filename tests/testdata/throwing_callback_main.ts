// A program whose applyAsync callback throws: the result still settles, then the error
// surfaces as an uncaught error, so the program exits with a failure code.
import { Pool, taskModule } from "../../pool/mod.ts";

const tasks = taskModule<typeof import("./pool_tasks.ts")>(new URL("./pool_tasks.ts", import.meta.url));
const pool = new Pool({ processes: 1 });
const result = pool.applyAsync(tasks.square, [3], {
  callback: () => {
    throw new Error("callback failed on purpose");
  },
});
// Registered before the task ends, so it runs as the result settles, before the error surfaces.
void result.then((value) => console.log(`result ${value}`));

// A ShareableList, as in Python's `multiprocessing.shared_memory` docs: a fixed-length list
// of numbers, strings, bytes, booleans and nulls in one named SharedMemory block. A child
// attaches by name and edits it; the parent sees the change. The creator unlinks the block.
//
//   node --import tsx examples/shareable_list.ts   |   deno run -A examples/shareable_list.ts   |   bun examples/shareable_list.ts
import { Process, ShareableList, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./shm_tasks.ts")>(new URL("./shm_tasks.ts", import.meta.url));

const list = ShareableList.create(["howdy", new TextEncoder().encode("HoWdY"), -273.154, 100, null, true, 42]);
try {
  console.log(`item 2: ${list.get(2)}, length ${list.length}, format ${list.format}`);
  console.log(`count(100) = ${list.count(100)}, index(42) = ${list.index(42)}`);

  const p = new Process({ target: tasks.editList, args: [list.shm.name] });
  p.start();
  await p.join();
  console.log(`after the child: ${list.get(0)}, ${list.get(3)}`);
} finally {
  list.shm.close();
  list.shm.unlink();
}

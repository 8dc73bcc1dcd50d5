// Daemon processes, as in Python: the program waits for its non-daemon children before it
// ends, and stops its daemon children then. Here the main module returns at once; the
// worker still finishes its work, and the endless daemon does not keep the program alive.
//
//   node --import tsx examples/daemon.ts   |   deno run -A examples/daemon.ts   |   bun examples/daemon.ts
import { activeChildren, Event, Process, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./process_tasks.ts")>(new URL("./process_tasks.ts", import.meta.url));

const ready = new Event();
const daemon = new Process({ target: tasks.forever, args: [ready], name: "daemon", daemon: true });
daemon.start();
await ready.wait();

const worker = new Process({ target: tasks.finite, args: ["worker", 200], name: "worker" });
worker.start();

console.log(`children: ${activeChildren().map((p) => `${p.name}${p.daemon ? " (daemon)" : ""}`).sort().join(", ")}`);
console.log("main: returning without join(); the worker finishes, the daemon is stopped");

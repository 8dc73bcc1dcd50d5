// A whole program starting OS children: a daemon one that never ends and a non-daemon one
// that prints after a while. It prints their pids, then returns (Python's rules: wait for
// the non-daemon child, stop the daemon one) or, given "crash", throws: no child may
// outlive it either way.
import process from "node:process";
import { Process } from "../../process/mod.ts";

const tasks = new URL("./os_tasks.ts", import.meta.url).href;
const [, , mode, ready] = process.argv;
const daemon = new Process({
  target: { module: tasks, name: "runForever" },
  args: [ready],
  daemon: true,
  startMethod: "process",
});
const other = new Process({
  target: { module: tasks, name: mode === "crash" ? "runForever" : "printLater" },
  args: mode === "crash" ? [`${ready}.other`] : [300, "non-daemon child done"],
  startMethod: "process",
});
daemon.start();
other.start();
console.log(JSON.stringify({ daemon: daemon.pid, other: other.pid }));
if (mode === "crash") {
  // Crash only once both children run, so that their pids are really in use.
  const { existsSync } = await import("node:fs");
  while (!existsSync(ready) || !existsSync(`${ready}.other`)) await new Promise((r) => setTimeout(r, 10));
  throw new Error("the parent crashes");
}

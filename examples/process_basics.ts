// Processes with a target and arguments, as in Python's `Process(target=f, args=(...))`:
// start, join, exit codes (0 after a return, 1 after an uncaught error, N after exit(N),
// -15 after terminate()), and the child's error kept on `p.error`.
//
//   node --import tsx examples/process_basics.ts   |   deno run -A examples/process_basics.ts   |   bun examples/process_basics.ts
import { Event, Process, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./process_tasks.ts")>(new URL("./process_tasks.ts", import.meta.url));

const greeter = new Process({ target: tasks.greet, args: ["bob", 2], name: "greeter" });
greeter.start();
await greeter.join();
console.log(`greeter exited with ${greeter.exitCode}`);

const failing = new Process({ target: tasks.fail, args: ["no such user"] });
failing.start();
await failing.join();
console.log(`failing exited with ${failing.exitCode}: ${failing.error?.name}: ${failing.error?.message}`);

const quitting = new Process({ target: tasks.quit, args: [3] });
quitting.start();
await quitting.join();
console.log(`quitting exited with ${quitting.exitCode}`);

const ready = new Event();
const endless = new Process({ target: tasks.forever, args: [ready] });
endless.start();
await ready.wait();
console.log(`endless is alive: ${endless.isAlive()}`);
endless.terminate();
await endless.join();
console.log(`endless exited with ${endless.exitCode}, alive: ${endless.isAlive()}`);

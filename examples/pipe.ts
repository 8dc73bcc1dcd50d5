// Pipes, as in Python's multiprocessing docs: a child sends one object on its end and the
// parent receives it; then a duplex ping-pong; then EOF once the child's end is gone.
// `connectionWait` is Python's multiprocessing.connection.wait (the package root's `wait`
// is concurrent.futures'; `@mproc/multiprocessing/ipc` exports it as `wait`).
import { connectionWait, EOFError, Pipe, Process, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./ipc_tasks.ts")>(new URL("./ipc_tasks.ts", import.meta.url));

// parent_conn, child_conn = Pipe(); p = Process(target=f, args=(child_conn,))
const [parentConn, childConn] = Pipe<unknown>();
const p = new Process({ target: tasks.f, args: [childConn] });
p.start();
childConn.close(); // the child holds its own handle of that end
console.log(JSON.stringify(await parentConn.recv())); // [42,null,"hello"]
await p.join();
try {
  await parentConn.recv();
} catch (error) {
  console.log(`after the child closed its end: ${error instanceof EOFError ? "EOFError" : error}`);
}

// Both ends talk: duplex is the default.
const [mine, theirs] = Pipe<string>();
const ponger = new Process({ target: tasks.ponger, args: [theirs] });
ponger.start();
theirs.close();
for (let i = 1; i <= 3; i++) {
  await mine.send(`ping ${i}`);
  console.log(await mine.recv());
}
await mine.send("bye");
await ponger.join();

// wait() on several connections: those ready to read.
const [r1, w1] = Pipe<number>({ duplex: false });
const [r2, w2] = Pipe<number>({ duplex: false });
w2.sendSync(2);
const ready = await connectionWait([r1, r2], { timeout: 1000 });
console.log(`ready: ${ready.map((c) => (c === r1 ? "r1" : "r2")).join(", ")}`);
w1.close();
w2.close();
console.log(`poll r1 at EOF: ${await r1.poll()}`);

// A SharedMemory block guarded by an RWLock: one writer publishes versions of the whole
// block while two readers, which attach by name only, check that they never see a
// half-written one.
import { Process, RWLock, SharedMemory, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./shm_tasks.ts")>(new URL("./shm_tasks.ts", import.meta.url));
const ROUNDS = 2_000;

using shm = SharedMemory.create({ size: 64 * 1024 });
const rw = new RWLock();
const readers = [1, 2].map(() => new Process({ target: tasks.reader, args: [shm.name, rw, ROUNDS] }));
const writer = new Process({ target: tasks.writer, args: [shm, rw, ROUNDS] });
for (const p of [...readers, writer]) p.start();
for (const p of [...readers, writer]) await p.join();

const codes = [...readers, writer].map((p) => p.exitCode);
console.log(
  `block "${shm.name}": ${ROUNDS} versions written, readers saw no torn write; exit codes ${codes.join(", ")}`,
);
if (codes.some((c) => c !== 0)) throw new Error("a reader or the writer failed");
shm.unlink();

// First code a reserve worker runs (see worker_reserve.ts): load what every entry needs
// and the runners it was given, say it is ready, wait for work, then run the entry it is
// given as if it had been started on it. Nothing of the user's is loaded before the work
// arrives.
import { runtime } from "../_runtime/mod.ts";
import "./error_record.ts";
import "./process_child.ts";
import "./shareable.ts";
import "./worker_child.ts";
import { wake } from "./futex.ts";
import type { ReserveData } from "./worker_reserve.ts";

const { ready, preload } = runtime.workerData() as ReserveData;
const work = runtime.awaitWork();
// A runner that fails to load now is loaded again when the work needs it, and its error
// reported then.
await Promise.all(preload.map((url) => runtime.importModule(url).catch(() => {})));
// The first message a worker receives costs Deno about half a millisecond more than the
// next ones, code it runs once: a message to itself pays that now, while idle.
await new Promise<void>((resolve) => {
  const { port1, port2 } = new MessageChannel();
  port2.onmessage = () => {
    port1.close();
    port2.close();
    resolve();
  };
  port1.postMessage({ warm: [0] });
});
// Say ready from a later task, once the runtime has finished starting the thread (Bun
// goes on for milliseconds after the entry's top level, and a message posted meanwhile
// waits for that).
await new Promise((resolve) => setTimeout(resolve, 0));
const flag = new Int32Array(ready);
Atomics.store(flag, 0, 1);
wake(flag, 0);
const { entry, run, loaded } = await work;
if (run === undefined) await runtime.importModule(entry);
else await ((await runtime.importModule(run)).run as () => Promise<void>)();
loaded();

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
const flag = new Int32Array(ready);
Atomics.store(flag, 0, 1);
wake(flag, 0);
const { entry, run, loaded } = await work;
if (run === undefined) await runtime.importModule(entry);
else await ((await runtime.importModule(run)).run as () => Promise<void>)();
loaded();

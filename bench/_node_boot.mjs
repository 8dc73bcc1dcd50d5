// Node entry for a bench runner: register tsx in this thread only (not through execArgv,
// which worker threads would inherit and pay for at every start), then run the bench.
import { register } from "tsx/esm/api";

register();
await import("./run.ts");

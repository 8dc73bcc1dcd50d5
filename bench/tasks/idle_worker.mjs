// Idle worker body: says it is up, then waits for a message to exit. The raw floor for the
// memory of an idle pool worker.
import { parentPort } from "node:worker_threads";

parentPort.once("message", () => parentPort.close());
parentPort.postMessage("ready");

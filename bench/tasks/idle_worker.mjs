// Idle worker body: says it is up, then waits for a message to exit. The raw floor for the
// memory of an idle pool worker.
import process from "node:process";
import { parentPort } from "node:worker_threads";

parentPort.once("message", () => process.exit(0));
parentPort.postMessage("ready");

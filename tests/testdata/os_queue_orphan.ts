// A program that takes the queue os_queue_maker.ts described and reports, one line each,
// what its calls do once that program has ended.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { decode, type Encoded } from "../../_internal/shareable.ts";
import type { ProcessQueue } from "../../ipc/mod.ts";

const dir = process.argv[2];
const encoded = JSON.parse(readFileSync(join(dir, "queue.json"), "utf8")) as Encoded;
const queue = await decode(encoded) as ProcessQueue<number>;
console.log(`got ${await queue.get()}`);
const pending = queue.get();
writeFileSync(join(dir, "waiting"), "");
for (const call of [() => pending, () => queue.put(1), () => queue.get({ timeout: 10 })]) {
  try {
    await call();
    console.log("no error");
  } catch (error) {
    console.log(`${(error as Error).name}: ${(error as Error).message}`);
  }
}

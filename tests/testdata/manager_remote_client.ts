// A separate OS process for the remote manager tests: connects to the manager at the
// port and key given on the command line, uses the shared dict, prints what it saw.
import process from "node:process";
import { BaseManager } from "../../ipc/manager.ts";
import type { DictProxy } from "../../ipc/manager.ts";

const [port, authkey, tag] = process.argv.slice(2);
const m = new BaseManager({ address: { host: "127.0.0.1", port: Number(port) }, authkey });
m.register("shared");
try {
  await m.connect();
  const d = await m.create("shared") as unknown as DictProxy<string, unknown>;
  await d.set(tag, process.pid);
  const seen = await d.get("parent");
  let syncError = "";
  try {
    d.getSync("parent");
  } catch (error) {
    syncError = (error as Error).name;
  }
  console.log(JSON.stringify({ ok: true, seen, syncError }));
  await m.shutdown();
} catch (error) {
  console.log(JSON.stringify({ ok: false, name: (error as Error).name, message: (error as Error).message }));
}

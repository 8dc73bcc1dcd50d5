// A manager other OS processes (or machines) reach over TCP with a shared key, as with
// Python's `BaseManager(address=..., authkey=...)`. Run with no arguments: it serves a
// dict on a free port, then starts a second process of the same runtime that connects
// (`manager_remote.ts client <port>`), writes to the dict and reads back.
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { BaseManager, type DictProxy, taskModule } from "../mod.ts";

const tasks = taskModule<typeof import("./manager_tasks.ts")>(new URL("./manager_tasks.ts", import.meta.url));
const AUTHKEY = "example key";

if (process.argv[2] === "client") {
  const manager = new BaseManager({ address: { host: "127.0.0.1", port: Number(process.argv[3]) }, authkey: AUTHKEY });
  manager.register("shared");
  await manager.connect();
  const d = await manager.create("shared") as unknown as DictProxy<string, unknown>;
  await d.set("client", `hello from process ${process.pid}`);
  console.log(`client read: ${await d.get("server")}`);
  await manager.shutdown();
} else {
  const manager = new BaseManager({ address: { host: "127.0.0.1", port: 0 }, authkey: AUTHKEY });
  manager.register("shared", tasks.sharedDict);
  await manager.start();
  const d = await manager.create("shared") as unknown as DictProxy<string, unknown>;
  await d.set("server", "hello from the server");

  const self = fileURLToPath(import.meta.url);
  const runtimeArgs = "Deno" in globalThis ? ["run", "-A"] : "Bun" in globalThis ? [] : process.execArgv;
  const client = spawnSync(process.execPath, [...runtimeArgs, self, "client", String(manager.address!.port)], {
    stdio: "inherit",
  });
  console.log(`client exited with ${client.status}`);
  console.log(`server read: ${(await d.get("client") as string).replace(/\d+/, "N")}`);

  const intruder = new BaseManager({ address: manager.address!, authkey: "wrong key" });
  await intruder.connect().catch((error) => console.log(`wrong key: ${error.name}`));
  await manager.shutdown();
}

// Worker targets for the manager reference-counting tests.
import type { DictProxy, EventProxy } from "../../ipc/manager.ts";
import type { Event } from "../../sync/event.ts";

/** Say it holds `d`, wait for `go`, then write through `d`: the parent has dropped its own proxy by then. */
export function holdThenWrite(d: DictProxy<string, unknown>, held: Event, go: Event): void {
  held.set();
  if (!go.waitSync(15_000)) throw new Error("go never came");
  d.setSync("child", "still here");
  if (d.getSync("child") !== "still here") throw new Error("the write was lost");
}

/** {@linkcode holdThenWrite} for an OS child, whose proxies reach their managers over TCP. */
export async function holdThenWriteRemote(d: DictProxy<string, unknown>, held: EventProxy, go: EventProxy) {
  await held.set();
  if (!await go.wait(15_000)) throw new Error("go never came");
  await d.set("child", "still here");
  if (await d.get("child") !== "still here") throw new Error("the write was lost");
}

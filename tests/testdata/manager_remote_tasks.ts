// Worker targets for the remote manager tests.
import type { DictProxy } from "../../ipc/manager.ts";

/** Set `key` through a proxy of a remote manager received in args. */
export async function setRemote(d: DictProxy<string, unknown>, key: string, value: unknown): Promise<void> {
  await d.set(key, value);
}

// Task functions for the manager examples: they run in worker threads and reach the
// manager's objects through the proxies passed in their arguments.
import type { DictProxy, ListProxy, LockProxy } from "../mod.ts";

/** Count words into the shared dict, under the shared lock, and log what was done. */
export async function countWords(
  counts: DictProxy<string, number>,
  lock: LockProxy,
  log: ListProxy<string>,
  text: string,
): Promise<void> {
  for (const word of text.split(/\s+/)) {
    await using _ = await lock.hold();
    await counts.set(word, (await counts.get(word, 0))! + 1);
  }
  await log.append(`counted ${text.split(/\s+/).length} words`);
}

const shared = new Map<string, unknown>();

/** The one Map a remote manager serves to every client as a dict. */
export function sharedDict(): Map<string, unknown> {
  return shared;
}

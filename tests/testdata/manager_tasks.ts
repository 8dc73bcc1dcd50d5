// Worker targets for the manager tests: each uses manager proxies it received in args.
import type {
  ArrayProxy,
  AutoProxy,
  BarrierProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  JoinableQueueProxy,
  ListProxy,
  LockProxy,
  NamespaceProxy,
  QueueProxy,
  SemaphoreProxy,
  ValueProxy,
} from "../../ipc/manager.ts";
import type { Counter } from "./manager_types.ts";

/** `n` times, under the manager lock: read d[key], add one, write it back (sync forms). */
export function countSync(d: DictProxy<string, number>, lock: LockProxy, key: string, n: number): void {
  for (let i = 0; i < n; i++) {
    using _ = lock.holdSync();
    d.setSync(key, (d.getSync(key) ?? 0) + 1);
  }
}

/** The same with the async forms. */
export async function countAsync(d: DictProxy<string, number>, lock: LockProxy, key: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    await d.set(key, (await d.get(key) ?? 0) + 1);
    await lock.release();
  }
}

/** Touch every proxy type once and record what was seen in `out`. */
export async function everyType(
  out: DictProxy<string, unknown>,
  p: {
    list: ListProxy<number>;
    ns: NamespaceProxy;
    value: ValueProxy<number>;
    array: ArrayProxy;
    queue: QueueProxy<string>;
    jq: JoinableQueueProxy<string>;
    lock: LockProxy;
    rlock: LockProxy;
    sem: SemaphoreProxy;
    bsem: SemaphoreProxy;
    cond: ConditionProxy;
    event: EventProxy;
    barrier: BarrierProxy;
  },
): Promise<void> {
  await p.list.append(4);
  await out.set("list", await p.list.toArray());
  await p.ns.set("child", "yes");
  await out.set("ns", await p.ns.get("parent"));
  await p.value.set((await p.value.get()) * 2);
  await p.array.set(0, 300);
  await out.set("array", await p.array.toArray());
  await out.set("queue", await p.queue.get({ timeout: 5000 }));
  await p.queue.put("from child");
  const item = await p.jq.get({ timeout: 5000 });
  await p.jq.taskDone();
  await out.set("jq", item);
  await out.set("lock", p.lock.acquireSync({ timeout: 5000 }));
  p.lock.releaseSync();
  await out.set("rlock", (await p.rlock.acquire()) && (await p.rlock.acquire()));
  await p.rlock.release();
  await p.rlock.release();
  await out.set("sem", await p.sem.acquire({ timeout: 5000 }));
  await p.bsem.release().catch((e: Error) => out.set("bsem", e.name));
  {
    await using _ = await p.cond.hold();
    await out.set("ready", true);
    await p.cond.notifyAll();
  }
  await out.set("event", await p.event.wait(5000));
  await out.set("barrier", typeof p.barrier.waitSync(5000));
}

/** Append `item` to the list stored under `key` of a dict of lists. */
export async function appendNested(d: DictProxy<string, ListProxy<string>>, key: string, item: string): Promise<void> {
  const list = await d.get(key);
  await list!.append(item);
}

/** Block on a managed queue's get (the test shuts the manager down meanwhile). */
export function blockOnQueue(q: QueueProxy<string>, out: DictProxy<string, unknown>): void {
  out.setSync("blocked", true);
  try {
    q.getSync();
  } catch (error) {
    try {
      out.setSync("error", (error as Error).name);
    } catch {
      // The manager is gone: the test reads the exit code instead.
    }
    throw error;
  }
}

/** Take the manager lock, announce it, and block on an event that is never set. */
export function holdAndWait(lock: LockProxy, started: EventProxy, never: EventProxy): void {
  lock.acquireSync();
  started.setSync();
  never.waitSync();
}

/** Call a registered counter `n` times. */
export async function bump(counter: AutoProxy<Counter>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await counter.increment(1);
}

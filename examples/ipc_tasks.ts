// Worker targets for the queue and pipe examples.
import { type Connection, currentProcess, type JoinableQueue, type Queue } from "../mod.ts";

/** Put `count` jobs, each a number to square, on the queue. */
export function produce(jobs: Queue<number | null>, first: number, count: number): void {
  for (let n = first; n < first + count; n++) jobs.putSync(n);
}

/** Take jobs until `null`, put `[worker, n, n * n]` on the results queue. */
export function consume(jobs: Queue<number | null>, results: Queue<[string, number, number]>): void {
  const me = currentProcess().name;
  for (;;) {
    const n = jobs.getSync();
    if (n === null) return;
    results.putSync([me, n, n * n]);
  }
}

/** Python's first Pipe example: send one object and close. */
export function f(conn: Connection<unknown>): void {
  conn.sendSync([42, null, "hello"]);
  conn.close();
}

/** Answer "ping n" with "pong n" until "bye", on a duplex pipe. */
export async function ponger(conn: Connection<string>): Promise<void> {
  for (;;) {
    const msg = await conn.recv();
    if (msg === "bye") break;
    await conn.send(msg.replace("ping", "pong"));
  }
  conn.close();
}

/** Take tasks until `null`, marking each done; the parent's join() waits for all of them. */
export function worker(tasks: JoinableQueue<string | null>, done: Queue<string>): void {
  for (;;) {
    const t = tasks.getSync();
    tasks.taskDone();
    if (t === null) return;
    done.putSync(t.toUpperCase());
  }
}

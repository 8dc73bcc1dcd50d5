// Targets for the process-context pipe tests: each runs in an OS child and talks to the
// test only through the connections it was given.
import process from "node:process";

interface Conn<T> {
  send(obj: T): Promise<void>;
  recv(): Promise<T>;
  close(): void;
}

/** Send back every message times ten until the other end closes, then close. */
export async function echoTimesTen(conn: Conn<number>): Promise<void> {
  for (;;) {
    let n: number;
    try {
      n = await conn.recv();
    } catch (error) {
      if ((error as Error).name === "EOFError") break;
      throw error;
    }
    await conn.send(n * 10);
  }
  conn.close();
}

/** Send `n` numbers from `from`, then end at once (no close: the process's end closes it). */
export async function sendNumbers(conn: Conn<number>, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) await conn.send(i);
}

/** Sum what comes until EOF and send the sum and count on `out`. */
export async function sumUntilEof(conn: Conn<number>, out: Conn<number[]>): Promise<void> {
  let sum = 0;
  let count = 0;
  for (;;) {
    try {
      sum += await conn.recv();
      count++;
    } catch (error) {
      if ((error as Error).name === "EOFError") break;
      throw error;
    }
  }
  await out.send([sum, count]);
}

/** Send this process's pid, then wait on `conn` until it ends (or the process is killed). */
export async function pidThenWait(conn: Conn<number>): Promise<void> {
  await conn.send(process.pid);
  await conn.recv().catch(() => {});
}

/** Send back every message as it came until the other end closes. */
export async function echoBack(conn: Conn<unknown>): Promise<void> {
  for (;;) {
    let v: unknown;
    try {
      v = await conn.recv();
    } catch {
      return;
    }
    await conn.send(v);
  }
}

let kept: Conn<number> | undefined;

/** Pool initializer: keep the connection for {@linkcode sendPid}. */
export function keepConn(conn: Conn<number>): void {
  kept = conn;
}

/** Send this worker's pid on the kept connection, `times` times. */
export async function sendPid(times: number): Promise<number> {
  for (let i = 0; i < times; i++) await kept!.send(process.pid);
  return process.pid;
}

// imap and imapUnordered hold a bounded number of input items in flight (the `window`
// option), so memory stays flat over an input of any length.
import assert from "node:assert/strict";
import process from "node:process";
import { describe } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import { runtime } from "../../_runtime/mod.ts";
import { Pool, taskModule } from "../../pool/mod.ts";
import { after, test, within } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;
/**
 * Items of the long-input test: 10M on Bun, where that takes a few seconds. Deno maps 4M and
 * Node 2M to stay within about ten seconds on a loaded machine: each step of a `for await`
 * loop is dearer there, and Node's test runner tracks every promise, which makes it about
 * six times dearer again (158k items/s in the runner, 1.1-2.2M in a plain program).
 */
const LONG = { node: 2_000_000, deno: 4_000_000, bun: 10_000_000 }[runtime.name];
const SAMPLE_EVERY = LONG / 20;

/**
 * A full garbage collection, so a heap sample holds what is live and not what is garbage:
 * Bun's own call, or V8's gc() exposed at run time (Node and Deno).
 */
function collector(): () => void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun !== undefined) return () => bun.gc(true);
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

describe("imap windows", () => {
  const pool = new Pool({ processes: 2 });
  after(() => pool.terminate());

  for (const ordered of [true, false]) {
    const method = ordered ? "imap" : "imapUnordered";
    for (const chunksize of [1, 7]) {
      test(`${method}() with chunksize ${chunksize} never holds more than its window`, async () => {
        const window = 50;
        // Whole chunks: the window rounds up to 8 chunks of 7.
        const bound = Math.ceil(window / chunksize) * chunksize;
        let pulled = 0;
        let most = 0;
        function* input() {
          for (let i = 0; i < 2_000; i++) {
            pulled++;
            yield i;
          }
        }
        const seen: number[] = [];
        const run = async () => {
          for await (const x of pool[method](tasks.identity, input(), { chunksize, window })) {
            seen.push(x as number);
            most = Math.max(most, pulled - seen.length);
          }
        };
        await within(run(), LIMIT);
        assert.ok(most <= bound, `held ${most} items, window ${bound}`);
        assert.ok(most >= Math.min(bound, 2 * chunksize), `held only ${most} items: the window was not used`);
        if (!ordered) seen.sort((a, b) => a - b);
        assert.deepEqual(seen, Array.from({ length: 2_000 }, (_, i) => i));
      });
    }
  }

  test("a window that is not a positive integer, or too large, is a RangeError", async () => {
    for (const window of [0, -1, 1.5, "10", null]) {
      assert.throws(() => pool.imap(tasks.identity, [1], { window: window as number }), RangeError, String(window));
    }
    // More than 2^20 jobs in flight: a larger chunksize makes the same window fit.
    assert.throws(() => pool.imap(tasks.identity, [1], { window: 2 ** 21 }), /larger chunksize/);
    const it = pool.imapUnordered(tasks.identity, [1], { window: 2 ** 21, chunksize: 4 });
    await it.return!();
  });

  test(`imapUnordered() over ${LONG} generated items keeps the heap flat`, { timeout: 120_000 }, async () => {
    function* input() {
      for (let i = 0; i < LONG; i++) yield i;
    }
    const collect = collector();
    let count = 0;
    let sum = 0;
    let base = 0;
    let most = 0;
    const run = async () => {
      for await (const x of pool.imapUnordered(tasks.identity, input(), { chunksize: 1_000 })) {
        sum += x as number;
        if (++count % SAMPLE_EVERY === 0) {
          collect();
          const used = process.memoryUsage().heapUsed;
          if (count === SAMPLE_EVERY) base = used;
          else most = Math.max(most, used - base);
        }
      }
    };
    const started = performance.now();
    await within(run(), 110_000, "imapUnordered");
    assert.equal(count, LONG);
    assert.equal(sum, (LONG * (LONG - 1)) / 2);
    const mib = most / 2 ** 20;
    // Holding 8 bytes per item would add 15 MiB over 2M items; the whole input, far more.
    assert.ok(mib < 12, `the heap grew by ${mib.toFixed(1)} MiB`);
    console.log(
      `imapUnordered: ${LONG} items in ${(performance.now() - started).toFixed(0)} ms, heap +${mib.toFixed(1)} MiB`,
    );
  });
});

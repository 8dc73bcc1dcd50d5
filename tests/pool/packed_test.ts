// Map chunks of numbers travel packed (pool/_pack.ts): every value must come back exactly,
// in order, through every map-style call, and anything that is not a number must too.
import assert from "node:assert/strict";
import { describe } from "node:test";
import { getContext } from "../../context.ts";
import { Pool, ProcessPoolExecutor, taskModule } from "../../pool/mod.ts";
import { after, test, within } from "../_helpers.ts";

const tasks = taskModule<typeof import("../testdata/pool_tasks.ts")>(
  new URL("../testdata/pool_tasks.ts", import.meta.url),
);
const pack = taskModule<typeof import("../testdata/pack_tasks.ts")>(
  new URL("../testdata/pack_tasks.ts", import.meta.url),
);
const LIMIT = 30_000;
const EDGES = [-0, 0, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2, -(2 ** 31) - 1, 0.1];
/** 1000 numbers, edge values among them. */
const NUMBERS = Array.from({ length: 1000 }, (_, i) => i % 50 < EDGES.length ? EDGES[i % 50] : i - 500.5);

function assertSame(got: readonly unknown[], want: readonly unknown[]): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.ok(Object.is(got[i], want[i]), `item ${i}: ${got[i]} !== ${want[i]}`);
}

async function drainAll<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe("packed number chunks", () => {
  const pool = new Pool({ processes: 2 });
  after(() => pool.terminate());

  test("numbers round-trip exactly and in order through map, imap and the executor", async () => {
    assertSame(await within(pool.map(tasks.identity, NUMBERS), LIMIT), NUMBERS);
    assertSame(await within(pool.map(tasks.identity, NUMBERS, { chunksize: 300 }), LIMIT), NUMBERS);
    assertSame(await within(drainAll(pool.imap(tasks.identity, NUMBERS, { chunksize: 128 })), LIMIT), NUMBERS);
    const unordered = await within(drainAll(pool.imapUnordered(tasks.identity, NUMBERS, { chunksize: 100 })), LIMIT);
    const sort = (xs: readonly unknown[]) => xs.map(String).sort();
    assert.deepEqual(sort(unordered), sort(NUMBERS));
    assert.deepEqual(await within(pool.map(pack.describe, [-0, ...NUMBERS.slice(1)], { chunksize: 500 }), LIMIT), [
      "-0",
      ...NUMBERS.slice(1).map((x) => Object.is(x, -0) ? "-0" : "number"),
    ]);
    await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
    assertSame(await within(drainAll(executor.map(tasks.identity, NUMBERS, { chunksize: 250 })), LIMIT), NUMBERS);
  });

  test("chunks holding strings, bigints, objects or holes come back as they went", async () => {
    const mixed: unknown[] = NUMBERS.slice(0, 400);
    mixed[10] = "ten";
    mixed[110] = 110n;
    mixed[210] = { n: 210 };
    delete mixed[310];
    const got = await within(pool.map(tasks.identity, mixed, { chunksize: 100 }), LIMIT);
    assert.deepEqual(got[10], "ten");
    assert.equal(got[110], 110n);
    assert.deepEqual(got[210], { n: 210 });
    assert.equal(got[310], undefined);
    const numbersOnly = (xs: readonly unknown[]) => Array.from(xs, (x, i) => [10, 110, 210, 310].includes(i) ? 0 : x);
    assertSame(numbersOnly(got), numbersOnly(mixed));
  });

  test("results that stop being numbers part-way through a chunk keep every value", async () => {
    const items = Array.from({ length: 300 }, (_, i) => i);
    const text = await within(pool.map(pack.numberThenText, items, { chunksize: 300 }), LIMIT);
    assert.deepEqual(text, items.map((x) => x < 100 ? x : `text ${x}`));
    const doubled = await within(pool.map(pack.numberThenPromise, items, { chunksize: 150 }), LIMIT);
    assert.deepEqual(doubled, items.map((x) => x * 2));
    await assert.rejects(
      pool.map(tasks.squareOrFail, items.map((x) => x === 150 ? -1 : x), { chunksize: 100 }),
      RangeError,
    );
  });

  test("packed chunks reach OS worker processes too", { timeout: 40_000 }, async () => {
    await using osPool = new (getContext("process").Pool)({ processes: 1 });
    assertSame(await within(osPool.map(tasks.identity, NUMBERS, { chunksize: 500 }), 40_000), NUMBERS);
    const items = Array.from({ length: 200 }, (_, i) => i);
    assert.deepEqual(
      await within(osPool.map(pack.numberThenText, items, { chunksize: 200 }), 40_000),
      items.map((x) => x < 100 ? x : `text ${x}`),
    );
  });
});

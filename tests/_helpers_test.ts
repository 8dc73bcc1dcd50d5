// The suite's own rule, checked: every test has a bound, so a hang fails that test by name
// instead of stalling the run (see tests/_helpers.ts).
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe } from "node:test";
import { fileURLToPath } from "node:url";
import { test } from "./_helpers.ts";

const ROOT = fileURLToPath(new URL(".", import.meta.url));

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (entry !== "testdata") out.push(...testFiles(path));
    } else if (entry.endsWith("_test.ts")) out.push(path);
  }
  return out;
}

/** Names of the tests in `source` declared with node:test's own `test`/`it` and no `timeout` option. */
function unbounded(source: string): string[] {
  const fromNodeTest = /import\s*\{([^}]*)\}\s*from\s*"node:test"/.exec(source)?.[1] ?? "";
  const names = fromNodeTest.split(",").map((s) => s.trim()).filter((s) => s === "test" || s === "it");
  const out: string[] = [];
  for (const name of names) {
    const call = new RegExp(`(?<![\\w.])${name}\\(\\s*(["'\`])((?:(?!\\1).)*)\\1`, "g");
    for (const m of source.matchAll(call)) {
      // The options, if any, come between the name and the callback.
      const rest = source.slice(m.index! + m[0].length);
      const head = rest.slice(0, rest.search(/=>|function\b/));
      if (!/\btimeout\b/.test(head)) out.push(m[2]);
    }
  }
  return out;
}

describe("test suite", () => {
  test("every test has a bound: test() from tests/_helpers.ts, or a timeout option", () => {
    const missing: string[] = [];
    for (const file of testFiles(ROOT)) {
      for (const name of unbounded(readFileSync(file, "utf8"))) missing.push(`${file.slice(ROOT.length)}: "${name}"`);
    }
    assert.deepEqual(
      missing,
      [],
      "these tests can hang the run: give each { timeout: ms } or use test() from _helpers.ts",
    );
  });

  test("the bound check sees an unbounded test", () => {
    const sample = [
      "import { describe, test } from \"node:test\";",
      "test(\"bounded\", { timeout: 5_000 }, () => {});",
      "test(\"unbounded\", async () => {});",
    ].join("\n");
    assert.deepEqual(unbounded(sample), ["unbounded"]);
  });
});

// Run the whole suite on Node, Deno and Bun in turn; fail if any runtime fails.
// `node scripts/test.mjs deno bun` runs only the runtimes named; extra `--` args after
// the names select test files (e.g. `-- tests/sync`).
// A full run first type-checks (`tsc --noEmit`, which also checks the @ts-expect-error lines
// of tests/pool/types_test.ts), lints (`npm run lint`) and dry-runs the JSR publish
// (`npm run check:jsr`: every entry type-checked, no slow types, a license), so a typing or
// packaging regression fails it. A run of selected files skips those three to stay quick;
// `--check` forces them, `--no-check` skips them on a full run.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const bin = (name) => join("node_modules", ".bin", name);

function testFiles(roots) {
  const out = [];
  const visit = (p) => {
    if (statSync(p).isDirectory()) {
      for (const entry of readdirSync(p).sort()) if (entry !== "testdata") visit(join(p, entry));
    } else if (p.endsWith("_test.ts")) out.push(p);
  };
  for (const root of roots) visit(root);
  return out;
}

const argv = process.argv.slice(2);
const sep = argv.indexOf("--");
const names = (sep === -1 ? argv : argv.slice(0, sep)).filter((a) => !a.startsWith("-"));
const roots = sep === -1 ? ["tests"] : argv.slice(sep + 1);
const files = testFiles(roots);
const check = argv.includes("--check") || (sep === -1 && !argv.includes("--no-check"));
const runtimes = {
  node: [process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...files]],
  deno: [bin("deno"), ["test", "-A", "--no-check", ...files]],
  bun: [bin("bun"), ["test", "--timeout", "60000", ...files.map((f) => "./" + f)]],
};
const chosen = names.length > 0 ? names : Object.keys(runtimes);
const results = [];
if (check) {
  for (
    const [label, cmd, args] of [
      ["tsc", bin("tsc"), ["--noEmit"]],
      ["lint", "npm", ["run", "--silent", "lint"]],
      ["jsr", "npm", ["run", "--silent", "check:jsr"]],
    ]
  ) {
    console.log(`\n=== ${label} ===`);
    const r = spawnSync(cmd, args, { stdio: "inherit", timeout: 5 * 60_000 });
    results.push(`${label}: ${r.status === 0 ? "passed" : `FAILED (exit ${r.status ?? r.signal})`}`);
  }
}
for (const name of chosen) {
  const [cmd, args] = runtimes[name];
  console.log(`\n=== ${name}: ${files.length} test files ===`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { stdio: "inherit", timeout: 15 * 60_000 });
  const ok = r.status === 0;
  results.push(
    `${name}: ${ok ? "passed" : `FAILED (exit ${r.status ?? r.signal})`} in ${
      ((Date.now() - started) / 1000).toFixed(1)
    } s`,
  );
}
console.log("\n" + results.join("\n"));
process.exit(results.every((r) => r.includes("passed")) ? 0 : 1);

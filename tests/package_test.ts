// The npm package is compiled JavaScript: check that it runs under plain Node (no tsx),
// and that a TypeScript task without tsx installed fails with a message that says so.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe } from "node:test";
import { fileURLToPath } from "node:url";
import { runtime } from "../_runtime/mod.ts";
import { after, before, test } from "./_helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const onNode = { skip: runtime.name !== "node" ? "the compiled package is checked on Node" : false };

describe("compiled package", onNode, () => {
  // Outside the project tree, so no node_modules (and no tsx) can be found from it.
  const dir = mkdtempSync(join(tmpdir(), "mproc-pkg-"));

  before(() => {
    const built = spawnSync(join(ROOT, "node_modules/.bin/tsc"), [
      "-p",
      "tsconfig.build.json",
      "--outDir",
      join(dir, "dist"),
    ], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(built.status, 0, built.stdout + built.stderr);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(join(dir, "task.mjs"), "export function double(n) { console.log(`double ${n * 2}`); }\n");
    writeFileSync(join(dir, "task.ts"), "export function double(n: number): void { console.log(n * 2); }\n");
    writeFileSync(
      join(dir, "main.mjs"),
      `import { Process, task } from "./dist/mod.js";
const p = new Process({ target: task(new URL(process.argv[2], import.meta.url), "double"), args: [21], startMethod: process.argv[3] });
p.start();
await p.join();
console.log(JSON.stringify({ exitCode: p.exitCode, error: p.error?.message ?? null }));
`,
    );
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  function run(
    target: string,
    startMethod = "thread",
  ): { out: string[]; result: { exitCode: number; error: string | null } } {
    const r = spawnSync(process.execPath, ["main.mjs", target, startMethod], {
      cwd: dir,
      encoding: "utf8",
      timeout: 30_000,
    });
    const out = r.stdout.trim().split("\n");
    return { out, result: JSON.parse(out[out.length - 1]) };
  }

  test("the compiled package runs a JavaScript task under plain Node", () => {
    const { out, result } = run("./task.mjs");
    assert.deepEqual(result, { exitCode: 0, error: null });
    assert.equal(out[0], "double 42");
  });

  test("the compiled package runs a JavaScript task in an OS child under plain Node", { timeout: 30_000 }, () => {
    const { out, result } = run("./task.mjs", "process");
    assert.deepEqual(result, { exitCode: 0, error: null });
    assert.equal(out[0], "double 42");
  });

  test("a TypeScript task on Node without tsx fails with a message naming tsx", () => {
    const { result } = run("./task.ts");
    assert.equal(result.exitCode, 1);
    assert.match(result.error ?? "", /"tsx" package, which is not installed: run "npm i -D tsx"/);
  });
});

// Single-file programs: a program using a Pool and a Process with the usual
// `new URL("./tasks.ts", import.meta.url)` task module, compiled by its runtime's own
// compiler into one binary (`bun build --compile`, `deno compile`) and run. Each runtime's
// run checks its own compiler; Node has none.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe } from "node:test";
import { fileURLToPath } from "node:url";
import { runtime } from "../_runtime/mod.ts";
import { after, test } from "./_helpers.ts";

const LIMIT = 60_000;
// A path, not a file: URL: Bun's bundler resolves only paths and packages.
const MOD = fileURLToPath(new URL("../mod.ts", import.meta.url));

const TASKS = `export function square(n: number): number {
  return n * n;
}

export function fail(message: string): never {
  throw new RangeError(message);
}
`;

// Prints one JSON line: what a Pool, a thread Process and an OS Process did.
const MAIN = `import { getContext, Pool, Process, taskModule } from ${JSON.stringify(MOD)};

const tasks = taskModule<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url));
const out: Record<string, unknown> = {};
try {
  await using pool = new Pool({ processes: 2 });
  out.map = await pool.map(tasks.square, [1, 2, 3], { timeout: 20_000 });
} catch (error) {
  out.mapError = String((error as Error)?.message ?? error);
}
const ok = new Process({ target: tasks.square, args: [3] });
ok.start();
await ok.join(20_000);
const bad = new Process({ target: tasks.fail, args: ["bad"] });
bad.start();
await bad.join(20_000);
out.process = [ok.exitCode, bad.exitCode, bad.error?.name, bad.error?.message];
// Only a bundle (Bun's) is known to refuse: a deno-compiled binary was never run here.
if ("Bun" in globalThis) {
  try {
    new (getContext("process").Process)({ target: tasks.square, args: [2] }).start();
    out.osProcess = "started";
  } catch (error) {
    out.osProcess = String((error as Error)?.message ?? error);
  }
}
console.log(JSON.stringify(out));
`;

const dir = mkdtempSync(join(tmpdir(), "mproc-compile-"));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "tasks.ts"), TASKS);
writeFileSync(join(dir, "main.ts"), MAIN);

function run(cmd: string, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: "utf8", timeout: LIMIT / 3 });
  return { code: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

/** Run the compiled binary; its one JSON line. */
function runBinary(name: string): Record<string, unknown> {
  const r = run(join(dir, name), []);
  assert.equal(r.code, 0, r.out);
  const line = r.out.split("\n").find((l) => l.startsWith("{"));
  assert.ok(line !== undefined, r.out);
  return JSON.parse(line);
}

function checkProgram(got: Record<string, unknown>): void {
  assert.deepEqual(got.map, [1, 4, 9], JSON.stringify(got));
  assert.deepEqual(got.process, [0, 1, "RangeError", "bad"]);
}

describe("single-file programs", () => {
  test("bun build --compile: a Pool and Processes run the task module compiled in beside main", {
    timeout: LIMIT,
    skip: runtime.name !== "bun" ? "bun build --compile is checked from the Bun run" : false,
  }, () => {
    const built = run(process.execPath, ["build", "--compile", "main.ts", "tasks.ts", "--outfile", "app"]);
    assert.equal(built.code, 0, built.out);
    const got = runBinary("app");
    checkProgram(got);
    assert.match(String(got.osProcess), /single-file bundle .*use the "thread" start method/);
  });

  test("bun build --compile without the task module: the error says to compile it in", {
    timeout: LIMIT,
    skip: runtime.name !== "bun" ? "bun build --compile is checked from the Bun run" : false,
  }, () => {
    const built = run(process.execPath, ["build", "--compile", "main.ts", "--outfile", "app-alone"]);
    assert.equal(built.code, 0, built.out);
    const got = runBinary("app-alone");
    assert.match(String(got.mapError), /Cannot run task "square".*bun build --compile main\.ts tasks\.ts/);
  });

  test("deno compile: a Pool and Processes run the task module included with --include", {
    timeout: LIMIT,
    skip: runtime.name !== "deno" ? "deno compile is checked from the Deno run" : false,
  }, (t: { skip(reason: string): void }) => {
    const args = ["compile", "--no-check", "-A", "--include", "tasks.ts", "--output", "app", "main.ts"];
    const built = run(process.execPath, args);
    // deno compile writes the program onto a `denort` binary it downloads once per
    // version; where that download cannot happen (no network) there is nothing to test.
    if (built.code !== 0 && /dl\.deno\.land|denort|error sending request|dns error/.test(built.out)) {
      // deno-lint-ignore no-control-regex
      const plain = built.out.replace(/\x1b\[[0-9;]*m/g, "");
      const lines = plain.split("\n");
      const why = (lines.find((l) => /error sending request/.test(l)) ?? lines.find((l) => /dl\.deno\.land/.test(l)))
        ?.trim();
      const reason = `deno compile cannot fetch its denort runtime here (${why})`;
      console.log(`skipped: ${reason}`);
      t.skip(reason);
      return;
    }
    assert.equal(built.code, 0, built.out);
    const got = runBinary("app");
    checkProgram(got);
  });
});

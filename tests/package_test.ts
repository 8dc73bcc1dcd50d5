// The npm package as a user gets it: `npm pack`, installed from the tarball into a fresh project
// outside this tree (so no tsx and no TypeScript can be found from it), then driven from plain
// .mjs on Node, Bun and Deno through each subpath. Packing builds once, so only the Node run of
// the suite does it and starts the other two runtimes itself on the same installed package.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe } from "node:test";
import { fileURLToPath } from "node:url";
import { runtime } from "../_runtime/mod.ts";
import { after, before, test } from "./_helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const onNode = { skip: runtime.name !== "node" ? "the packed package is checked from the Node run" : false };
const RUNTIMES: Record<string, string[]> = {
  node: [process.execPath],
  bun: [join(ROOT, "node_modules/.bin/bun")],
  deno: [join(ROOT, "node_modules/.bin/deno"), "run", "-A", "--node-modules-dir=manual"],
};

const TASKS = `import { currentProcess } from "@mproc/multiprocessing/process";

export function square(n) {
  return n * n;
}

export function count(queue, counter, lock, times) {
  for (let i = 0; i < times; i++) {
    lock.acquireSync();
    try {
      counter.value += 1;
    } finally {
      lock.release();
    }
  }
  queue.putSync(\`\${currentProcess().name} counted \${times}\`);
}

export function double(n) {
  console.log(\`double \${n * 2}\`);
}
`;

// One of each through its own subpath; the root must re-export the very same classes.
const EVERY_ENTRY = `import * as root from "@mproc/multiprocessing";
import { DistributedExecutor } from "@mproc/multiprocessing/distributed";
import { Queue } from "@mproc/multiprocessing/ipc";
import { Pool } from "@mproc/multiprocessing/pool";
import { Process, taskModule } from "@mproc/multiprocessing/process";
import { Value } from "@mproc/multiprocessing/shm";
import { Lock } from "@mproc/multiprocessing/sync";

const tasks = taskModule(new URL("./tasks.mjs", import.meta.url));
const lock = new Lock();
const counter = new Value("i", 0, { lock });
const queue = new Queue();
const processes = ["p1", "p2"].map((name) =>
  new Process({ target: tasks.count, args: [queue, counter, lock, 500], name })
);
for (const p of processes) p.start();
const messages = [await queue.get({ timeout: 20_000 }), await queue.get({ timeout: 20_000 })].sort();
for (const p of processes) await p.join(20_000);
const pool = new Pool({ processes: 2 });
const squares = await pool.map(tasks.square, [1, 2, 3, 4]);
pool.close();
await pool.join();
queue.close();
console.log(JSON.stringify({
  exitCodes: processes.map((p) => p.exitCode),
  messages,
  counter: counter.value,
  sameLock: counter.getLock() === lock,
  squares,
  rootReexports: root.Pool === Pool && root.Lock === Lock && root.Queue === Queue && root.Value === Value,
  distributed: typeof DistributedExecutor,
}));
`;

const ONE_PROCESS = `import { Process, task } from "@mproc/multiprocessing";
const p = new Process({ target: task(new URL(process.argv[2], import.meta.url), "double"), args: [21], startMethod: process.argv[3] });
p.start();
await p.join();
console.log(JSON.stringify({ exitCode: p.exitCode, error: p.error?.message ?? null }));
`;

function sh(cmd: string, args: string[], cwd: string, timeout: number): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed (${r.signal ?? r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function lastJson(out: string): Record<string, unknown> {
  const lines = out.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

describe("the packed npm package", onNode, () => {
  const dir = mkdtempSync(join(tmpdir(), "mproc-pkg-"));
  const installed = join(dir, "node_modules/@mproc/multiprocessing");

  before(() => {
    // `npm pack` runs the prepack build, so the tarball holds a fresh dist/.
    const tarball = sh("npm", ["pack", "--silent", "--pack-destination", dir], ROOT, 120_000).trim().split("\n").pop()!;
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
    // The dependencies come from npm's cache when `npm ci` has filled it, from the registry otherwise.
    sh(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", `./${tarball}`],
      dir,
      120_000,
    );
    writeFileSync(join(dir, "tasks.mjs"), TASKS);
    writeFileSync(join(dir, "main.mjs"), EVERY_ENTRY);
    writeFileSync(join(dir, "one.mjs"), ONE_PROCESS);
    writeFileSync(join(dir, "task.ts"), "export function double(n: number): void { console.log(n * 2); }\n");
  }, 240_000);

  after(() => rmSync(dir, { recursive: true, force: true }));

  test("ships compiled JavaScript with types and source maps, no sources, tests or tooling", () => {
    const files = (readdirSync(installed, { recursive: true }) as string[]).sort();
    assert.deepEqual(files.filter((f) => !f.startsWith("dist")), [
      "CHANGELOG.md",
      "LICENSE",
      "README.md",
      "package.json",
    ]);
    assert.deepEqual(files.filter((f) => /(?<!\.d)\.ts$/.test(f)), []);
    for (const entry of ["mod", "process/mod", "pool/mod", "ipc/mod", "shm/mod", "sync/mod", "distributed/mod"]) {
      for (const ext of [".js", ".d.ts", ".js.map"]) {
        assert.ok(existsSync(join(installed, "dist", entry + ext)), `dist/${entry}${ext} is missing`);
      }
    }
    assert.equal(existsSync(join(dir, "node_modules/tsx")), false);
    assert.equal(existsSync(join(dir, "node_modules/typescript")), false);
  });

  for (const name of Object.keys(RUNTIMES)) {
    test(
      `${name} runs a Process, a Pool map, a Queue, a Value and a Lock from every subpath`,
      { timeout: 60_000 },
      () => {
        const [cmd, ...args] = RUNTIMES[name];
        assert.deepEqual(lastJson(sh(cmd, [...args, "main.mjs"], dir, 50_000)), {
          exitCodes: [0, 0],
          messages: ["p1 counted 500", "p2 counted 500"],
          counter: 1000,
          sameLock: true,
          squares: [1, 4, 9, 16],
          rootReexports: true,
          distributed: "function",
        });
      },
    );
  }

  function runOne(target: string, startMethod: string): { out: string[]; result: Record<string, unknown> } {
    const r = spawnSync(process.execPath, ["one.mjs", target, startMethod], {
      cwd: dir,
      encoding: "utf8",
      timeout: 30_000,
    });
    return { out: r.stdout.trim().split("\n"), result: lastJson(r.stdout) };
  }

  test("a JavaScript task runs in an OS child under plain Node", { timeout: 30_000 }, () => {
    const { out, result } = runOne("./tasks.mjs", "process");
    assert.deepEqual(result, { exitCode: 0, error: null });
    assert.equal(out[0], "double 42");
  });

  test("a TypeScript task on Node without tsx fails with a message naming tsx", { timeout: 30_000 }, () => {
    const { result } = runOne("./task.ts", "thread");
    assert.equal(result.exitCode, 1);
    assert.match(String(result.error), /"tsx" package, which is not installed: run "npm i -D tsx"/);
  });
});

// `npm run bench`: every figure for one runtime (default: the one running this file), or
// for several by re-launching this file under each runtime as a subprocess.
//
//   npm run bench                       # Node
//   npm run bench -- --runtime deno     # deno | bun | node | all
//   npm run bench -- --quick            # < 60 s smoke run, written to results/quick/
//   npm run bench -- --only a,b         # only the workloads holding these figure ids, written to results/only/
//
// Python runs once per invocation, before any JS workload, and its figures are handed to
// each runtime's runner so all share one Python measurement.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtime } from "../_runtime/mod.ts";
import { FIGURES, FULL, type PeerName, PEERS, QUICK, type Sizes } from "./_config.ts";
import { measureOurs } from "./ours.ts";
import { measurePeers } from "./peers.ts";
import { measurePython, type PythonResults } from "./python.ts";
import { measureRaw } from "./raw.ts";
import { type CommitInfo, RESULTS_DIR, type RunResult, textTable, writeResult, writeSummary } from "./report.ts";

const RUNTIMES = ["node", "deno", "bun"] as const;
type RuntimeName = typeof RUNTIMES[number];

interface Options {
  runtimes: RuntimeName[];
  quick: boolean;
  /** Figure ids to measure (with the rest of their workload); null: all. */
  only: Set<string> | null;
  /** Set on a re-launched runner: Python's figures, already measured by the parent. */
  pythonFile: string | null;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { runtimes: [runtime.name], quick: false, only: null, pythonFile: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") opts.quick = true;
    else if (a === "--runtime") {
      const v = argv[++i];
      if (v === "all") opts.runtimes = [...RUNTIMES];
      else if ((RUNTIMES as readonly string[]).includes(v)) opts.runtimes = [v as RuntimeName];
      else throw new RangeError(`Cannot run the bench: unknown runtime "${v}" (use node, deno, bun or all)`);
    } else if (a === "--only") {
      const ids = (argv[++i] ?? "").split(",").filter((id) => id !== "");
      const unknown = ids.filter((id) => !FIGURES.some((f) => f.id === id));
      if (ids.length === 0 || unknown.length > 0) {
        throw new RangeError(`Cannot run the bench: --only takes figure ids from bench/_config.ts, got "${unknown}"`);
      }
      opts.only = new Set(ids);
    } else if (a === "--python-results") opts.pythonFile = argv[++i];
    else throw new RangeError(`Cannot run the bench: unknown option "${a}"`);
  }
  return opts;
}

function log(line: string): void {
  console.error(`[${runtime.name} ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function peerVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PEERS) {
    try {
      const pkg = new URL(`../node_modules/${name}/package.json`, import.meta.url);
      out[name] = JSON.parse(readFileSync(pkg, "utf8")).version;
    } catch {
      out[name] = "not installed";
    }
  }
  return out;
}

/** Measure everything on the runtime running this file and write its results. */
async function runHere(opts: Options, sizes: Sizes, python: PythonResults): Promise<RunResult> {
  const { quick, only } = opts;
  const started = performance.now();
  const raw = await measureRaw(sizes, log, only);
  const ours = await measureOurs(sizes, log, only);
  const peers = await measurePeers(sizes, log, only);
  const notes: Record<string, string> = { ...ours.notes };
  for (const [k, v] of Object.entries(peers.errors)) notes[k] = v;
  for (const [k, v] of Object.entries(python.errors)) notes[`python_${k}`] = v;
  const result: RunResult = {
    runtime: runtime.name,
    versions: { [runtime.name]: runtimeVersion(), python: python.version ?? "not run", ...peerVersions() },
    date: new Date().toISOString(),
    commit: commitInfo(),
    quick,
    sizes,
    figures: FIGURES.map(({ id, unit, better }) => ({
      id,
      unit,
      better,
      ours: ours.figures[id] ?? null,
      raw: raw[id] ?? null,
      python_fork: python.fork?.[id] ?? null,
      python_spawn: python.spawn?.[id] ?? null,
      peers: Object.fromEntries(PEERS.map((p) => [p, peers.figures[p]?.[id] ?? null])) as Record<
        PeerName,
        number | null
      >,
    })),
    notes,
  };
  const dir = resultsDir(opts);
  mkdirSync(dir, { recursive: true });
  writeResult(result, dir);
  log(`done in ${((performance.now() - started) / 1e3).toFixed(0)} s`);
  return result;
}

// The library is everything but the bench, the tests, the examples and the docs.
const NOT_LIBRARY = [":(exclude)bench", ":(exclude)tests", ":(exclude)examples", ":(exclude)*.md"];

function git(args: string[]): string {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const r = spawnSync("git", args, { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Which code this run measures, for the summary; undefined outside a git checkout. */
function commitInfo(): CommitInfo | undefined {
  try {
    return {
      head: git(["rev-parse", "--short", "HEAD"]),
      library: git(["log", "-1", "--format=%h", "--", ".", ...NOT_LIBRARY]),
      dirty: git(["status", "--porcelain", "--", ".", ...NOT_LIBRARY]) !== "",
    };
  } catch {
    return undefined;
  }
}

function runtimeVersion(): string {
  const v = runtime.versions;
  return v[runtime.name] ?? v.node ?? "unknown";
}

// Deno and Bun run this same file; Node needs tsx for TypeScript, loaded by _node_boot.mjs.
function launcher(name: RuntimeName): [string, string[]] {
  const bin = (b: string) => fileURLToPath(new URL(`../node_modules/.bin/${b}`, import.meta.url));
  const self = fileURLToPath(import.meta.url);
  if (name === "deno") return [bin("deno"), ["run", "-A", "--node-modules-dir=manual", self]];
  if (name === "bun") return [bin("bun"), [self]];
  return [process.execPath, [fileURLToPath(new URL("./_node_boot.mjs", import.meta.url))]];
}

// A partial or quick run must never overwrite the committed full results.
function resultsDir(opts: Options): URL {
  if (opts.only !== null) return new URL("./only/", RESULTS_DIR);
  return opts.quick ? new URL("./quick/", RESULTS_DIR) : RESULTS_DIR;
}

function relaunch(name: RuntimeName, opts: Options, pythonFile: string): RunResult {
  const [cmd, args] = launcher(name);
  const flags = [...(opts.quick ? ["--quick"] : []), ...(opts.only ? ["--only", [...opts.only].join(",")] : [])];
  const r = spawnSync(cmd, [...args, ...flags, "--python-results", pythonFile], {
    stdio: ["ignore", "ignore", "inherit"],
    // A runtime takes about 2 minutes; a blocked one must not eat the 10-minute budget of `all`.
    timeout: 4 * 60_000,
  });
  if (r.status !== 0) throw new Error(`The ${name} runner failed: exit ${r.status ?? r.signal}`);
  const dir = resultsDir(opts);
  return JSON.parse(readFileSync(new URL(`${name}.json`, dir), "utf8"));
}

// Worker threads inherit the parent's execArgv, so under `node --import tsx` every worker
// (raw, peer, ours) would load tsx first: that is the bench runner's cost, not theirs. The
// Node runner is therefore re-launched through _node_boot.mjs, which registers tsx in the
// main thread only.
function inheritsLoader(): boolean {
  return runtime.name === "node" && process.execArgv.some((a) => a.includes("tsx"));
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const sizes = opts.quick ? QUICK : FULL;
  const started = performance.now();
  const python: PythonResults = opts.pythonFile
    ? JSON.parse(readFileSync(opts.pythonFile, "utf8"))
    : measurePython(sizes, log, opts.only);
  if (opts.pythonFile !== null) {
    // A re-launched runner: measure, write the file, let the parent print and summarise.
    await runHere(opts, sizes, python);
    return;
  }
  const results: RunResult[] = [];
  const pythonFile = join(tmpdir(), `mproc-bench-python-${process.pid}.json`);
  writeFileSync(pythonFile, JSON.stringify(python));
  for (const name of opts.runtimes) {
    try {
      const here = name === runtime.name && !inheritsLoader();
      results.push(here ? await runHere(opts, sizes, python) : relaunch(name, opts, pythonFile));
    } catch (error) {
      log(`${name}: ${(error as Error).message}`);
      process.exitCode = 1;
    }
  }
  rmSync(pythonFile, { force: true });
  if (!opts.quick && opts.only === null) writeSummary();
  for (const r of results) console.log(`\n${textTable(r)}`);
  console.log(`\nbench finished in ${((performance.now() - started) / 1e3).toFixed(0)} s`);
}

await main();
// Leftover worker handles (a peer's idle timer, a daemon child) must not keep the run alive.
process.exit(process.exitCode ?? 0);

// Everything the bench writes: the stdout table, results/<runtime>.json, results/summary.md
// and results/ratios.svg. Nothing here measures; every number comes from a results object.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { FIGURES, type PeerName, PEERS, type Sizes } from "./_config.ts";

/** One figure as written to results/<runtime>.json. */
export interface FigureResult {
  id: string;
  unit: string;
  better: "higher" | "lower";
  ours: number | null;
  raw: number | null;
  python_fork: number | null;
  python_spawn: number | null;
  peers: Record<PeerName, number | null>;
}

/** The whole of results/<runtime>.json. */
export interface RunResult {
  runtime: string;
  versions: Record<string, string>;
  date: string;
  /** The code measured: see {@linkcode CommitInfo}. Absent in results from before it was recorded. */
  commit?: CommitInfo;
  quick: boolean;
  sizes: Sizes;
  figures: FigureResult[];
  /** Why a value is null or worth a remark, keyed `<figure id>` (ours) or `<source>` (a peer, `python_fork`). */
  notes: Record<string, string>;
}

/** Which code a run measured. */
export interface CommitInfo {
  /** The commit checked out (short hash). */
  head: string;
  /** The last commit that changed library code (anything outside bench/, tests/, examples/ and docs). */
  library: string;
  /** Whether library code had uncommitted changes: then the figures match no commit. */
  dirty: boolean;
}

function commitLine(c: CommitInfo | undefined): string {
  if (c === undefined) return "Commit measured: not recorded.";
  const code = c.dirty
    ? `with uncommitted library changes on top of \`${c.library}\` (these figures match no commit)`
    : `whose library code is that of \`${c.library}\`, the last commit that changed it`;
  return `Measured on commit \`${c.head}\`, ${code}.`;
}

/** Where results live. */
export const RESULTS_DIR: URL = new URL("./results/", import.meta.url);

/**
 * How many times better ours is than `other`, whichever way the figure reads: above 1 we
 * win, below 1 we lose. Null when either side is missing.
 */
export function advantage(f: FigureResult, ours: number | null, other: number | null): number | null {
  if (ours === null || other === null || ours <= 0 || other <= 0) return null;
  return f.better === "higher" ? ours / other : other / ours;
}

/** The best peer for a figure, by the figure's own direction. */
export function bestPeer(f: FigureResult): { name: PeerName; value: number } | null {
  let best: { name: PeerName; value: number } | null = null;
  for (const name of PEERS) {
    const v = f.peers[name];
    if (v === null) continue;
    if (best === null || (f.better === "higher" ? v > best.value : v < best.value)) best = { name, value: v };
  }
  return best;
}

function num(v: number | null): string {
  if (v === null) return "—";
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  return v.toPrecision(3);
}

function ratio(v: number | null): string {
  return v === null ? "—" : `${v.toPrecision(2)}×`;
}

const HEAD = [
  "figure",
  "unit",
  "ours",
  "raw limit",
  "py fork",
  "py spawn",
  "best peer",
  "ours/raw",
  "vs py fork",
  "vs py spawn",
  "vs best peer",
];

function rows(r: RunResult): string[][] {
  return r.figures.map((f) => {
    const peer = bestPeer(f);
    return [
      f.id,
      f.unit,
      num(f.ours),
      num(f.raw),
      num(f.python_fork),
      num(f.python_spawn),
      peer ? `${num(peer.value)} ${peer.name}` : "—",
      ratio(advantage(f, f.ours, f.raw)),
      ratio(advantage(f, f.ours, f.python_fork)),
      ratio(advantage(f, f.ours, f.python_spawn)),
      ratio(advantage(f, f.ours, peer?.value ?? null)),
    ];
  });
}

/** The plain-text table printed at the end of a run. */
export function textTable(r: RunResult): string {
  const all = [HEAD, ...rows(r)];
  const widths = HEAD.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [
    `${r.runtime} (${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(", ")})${r.quick ? " QUICK" : ""}`,
    line(HEAD),
    ...all.slice(1).map(line),
    "ratios: how many times better ours is (>1 we win, <1 we lose); ours/raw is the share of the physical limit",
  ].join("\n");
}

function markdownTable(r: RunResult): string {
  const all = rows(r);
  const head = `| ${HEAD.join(" | ")} |\n|${HEAD.map((_, i) => (i < 2 ? " --- " : " ---: ")).join("|")}|`;
  return [head, ...all.map((row) => `| ${row.join(" | ")} |`)].join("\n");
}

// Within this band a ratio is noise on a shared 2-core machine, not a result.
const EVEN = 1.1;

/** Our wins, losses and draws against Python, the best peer and the raw limit, one line per figure. */
function verdicts(r: RunResult): { wins: string[]; losses: string[]; even: string[] } {
  const wins: string[] = [];
  const losses: string[] = [];
  const even: string[] = [];
  for (const f of r.figures) {
    const peer = bestPeer(f);
    const against: [string, number | null][] = [
      ["Python fork", advantage(f, f.ours, f.python_fork)],
      ["Python spawn", advantage(f, f.ours, f.python_spawn)],
      [`the best peer (${peer?.name})`, advantage(f, f.ours, peer?.value ?? null)],
    ];
    const [w, l, e]: string[][] = [[], [], []];
    for (const [who, a] of against) {
      if (a === null) continue;
      if (a >= EVEN) w.push(`${a.toPrecision(2)}× better than ${who}`);
      else if (a <= 1 / EVEN) l.push(`${(1 / a).toPrecision(2)}× worse than ${who}`);
      else e.push(who);
    }
    if (w.length > 0) wins.push(`\`${f.id}\`: ${w.join(", ")}`);
    if (l.length > 0) losses.push(`\`${f.id}\`: ${l.join(", ")}`);
    if (e.length > 0) even.push(`\`${f.id}\`: within 10% of ${e.join(", ")}`);
  }
  return { wins, losses, even };
}

/** Read every full-run results file (quick runs are smoke tests and are not summarised). */
export function readResults(): RunResult[] {
  const order = ["node", "deno", "bun"];
  return readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(new URL(f, RESULTS_DIR), "utf8")) as RunResult)
    .filter((r) => !r.quick)
    .sort((a, b) => order.indexOf(a.runtime) - order.indexOf(b.runtime));
}

/** results/summary.md: how the numbers are made, then one section per runtime. */
export function summaryMarkdown(results: RunResult[]): string {
  const out = [
    "# Benchmark results",
    "",
    "Generated by `npm run bench -- --runtime all` (bench/run.ts); do not edit by hand.",
    "Each figure is warmed up once, then timed 5 times; the table shows the median. All runs share one",
    "2-core machine, so absolute numbers are noisy; the ratios, taken within one run, are the point.",
    "",
    "- **ours**: this library. **raw limit**: the runtime primitive alone (postMessage between workers,",
    "  Atomics compare-exchange, SharedArrayBuffer rings and copies), the ceiling any library on that",
    "  runtime can reach. **py fork / py spawn**: CPython `multiprocessing` run live from",
    "  `bench/python/mp_bench.py` with the same sizes. **best peer**: the fastest of piscina, tinypool,",
    "  workerpool and poolifier on the pool figures, running the same task module with 2 workers.",
    "- Ratios read \"how many times better ours is\": above 1× we win, below 1× we lose, whatever the unit.",
    "  `ours/raw` is the share of the physical limit we reach.",
    "- Peers have no chunked map and no executor: `pool_map_default` runs the same `mapChunk` task",
    "  over Python's default chunks, and `executor_map` reuses their concurrent-run figure.",
    "- Deno and Bun run our TypeScript source. Node cannot load `.ts` in a worker without tsx, so on Node",
    "  ours is a fresh `tsc` build of the same source (what the npm package ships), made at the start of",
    "  the run; the notes say which one was measured.",
    "- The raw limit is the simplest correct design on the bare primitive, not a proof of a ceiling: the",
    "  pool limit is one postMessage per task (our pool batches, so it can pass it), and the contended",
    "  limits are a classic futex mutex and a fetch-add RW lock (a lock that lets its holder keep running",
    "  can pass them). `ours/raw` above 1× means we beat the naive design.",
    "- Equal windows: every contestant runs the same sizes (`sizes` in each results file), and on the",
    "  figures with workers of their own (contended locks, Queue, Pipe, the raw limits) every worker,",
    "  Python's children included, reports ready before a shared go signal starts the clock, so no",
    "  contestant's start-up falls inside a throughput figure. The raw `queue_10mb` limit moves each",
    "  message between two workers (copy in, hand-off, copy out), as a queue between processes must.",
    "- `*_cpu` rows: CPU time (user + system, every thread or child process of the contestant) per",
    "  task over the same timed run as the row above, so a pool that spins to cut latency shows what",
    "  it pays. Python's children are read from /proc (10 ms ticks, over runs of 0.1-1 s).",
    "- `—` means not measured: the feature is not built yet, or the contestant has no such thing",
    "  (Python has no RWLock; peers have no locks or queues). Reasons are listed per runtime.",
    "",
    "![ours, best peer, Python spawn and the raw limit, relative to Python fork](ratios.svg)",
    "",
  ];
  for (const r of results) {
    const { wins, losses, even } = verdicts(r);
    out.push(
      `## ${r.runtime}`,
      "",
      `${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(", ")}; run ${r.date}.`,
      commitLine(r.commit),
      "",
      markdownTable(r),
      "",
      "**Where we lose**",
      "",
      ...(losses.length > 0 ? losses.map((l) => `- ${l}`) : ["- nowhere measured"]),
      "",
      "**Where we win**",
      "",
      ...(wins.length > 0 ? wins.map((w) => `- ${w}`) : ["- nowhere measured"]),
      "",
      "**Even (within 10%, i.e. noise here)**",
      "",
      ...(even.length > 0 ? even.map((e) => `- ${e}`) : ["- none"]),
      "",
      "**Notes: what was measured from where, what was not, and incidents**",
      "",
      ...Object.entries(r.notes).map(([k, v]) => `- \`${k}\`: ${v}`),
      "",
    );
  }
  return out.join("\n");
}

const SERIES = [
  { key: "ours", label: "ours", color: "#2563eb" },
  { key: "peer", label: "best peer", color: "#f59e0b" },
  { key: "spawn", label: "Python spawn", color: "#10b981" },
  { key: "raw", label: "raw limit", color: "#9ca3af" },
] as const;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * results/ratios.svg: per runtime, each figure's contestants as speed relative to Python
 * fork (log scale, 1× in the middle, right = faster). Hand-rolled: no chart dependency.
 */
export function ratiosSvg(results: RunResult[]): string {
  const [labelW, plotW, barH, gap, top] = [250, 560, 7, 12, 64];
  const [lo, hi] = [-3, 3]; // log10 of the axis ends: 0.001× to 1000×
  const x = (v: number) => labelW + ((Math.min(hi, Math.max(lo, Math.log10(v))) - lo) / (hi - lo)) * plotW;
  const parts: string[] = [];
  let y = top;
  for (const r of results) {
    parts.push(`<text x="10" y="${y + 14}" font-weight="bold">${esc(r.runtime)} (${esc(r.date.slice(0, 10))})</text>`);
    y += 24;
    for (const f of r.figures.filter((f) => f.python_fork !== null)) {
      const values: Record<string, number | null> = {
        ours: advantage(f, f.ours, f.python_fork),
        peer: advantage(f, bestPeer(f)?.value ?? null, f.python_fork),
        spawn: advantage(f, f.python_spawn, f.python_fork),
        raw: advantage(f, f.raw, f.python_fork),
      };
      const title = FIGURES.find((m) => m.id === f.id)?.title ?? f.id;
      parts.push(`<text x="${labelW - 8}" y="${y + 2 * barH + 4}" text-anchor="end">${esc(title)}</text>`);
      SERIES.forEach((s, i) => {
        const v = values[s.key];
        const by = y + i * barH;
        if (v === null) {
          if (s.key === "ours") {
            parts.push(
              `<text x="${x(1) + 4}" y="${by + barH - 1}" font-size="9" fill="#6b7280">ours: not measured</text>`,
            );
          }
          return;
        }
        const [x0, x1] = [x(1), x(v)];
        parts.push(
          `<rect x="${Math.min(x0, x1).toFixed(1)}" y="${by}" width="${
            Math.max(1, Math.abs(x1 - x0)).toFixed(1)
          }" height="${barH - 1}" fill="${s.color}"><title>${
            esc(`${s.label}: ${v.toPrecision(3)}× Python fork`)
          }</title></rect>`,
        );
        if (s.key === "ours") {
          parts.push(
            `<text x="${(v >= 1 ? x1 + 3 : x1 - 3).toFixed(1)}" y="${by + barH - 1}" font-size="9" text-anchor="${
              v >= 1 ? "start" : "end"
            }">${v.toPrecision(2)}×</text>`,
          );
        }
      });
      y += SERIES.length * barH + gap;
    }
    y += 10;
  }
  const height = y + 30;
  const axis: string[] = [];
  for (let e = lo; e <= hi; e++) {
    const gx = x(10 ** e);
    axis.push(`<line x1="${gx}" y1="${top}" x2="${gx}" y2="${y}" stroke="${e === 0 ? "#111" : "#ddd"}"/>`);
    axis.push(`<text x="${gx}" y="${y + 14}" text-anchor="middle" font-size="10">${10 ** e}×</text>`);
  }
  const legend = SERIES.map((s, i) =>
    `<rect x="${labelW + i * 130}" y="30" width="10" height="10" fill="${s.color}"/><text x="${
      labelW + i * 130 + 14
    }" y="39">${s.label}</text>`
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${
      labelW + plotW + 40
    }" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="18" font-size="13" font-weight="bold">Speed relative to Python multiprocessing (fork) = 1×, log scale; right is faster; absent bars were not measured</text>`,
    `<text x="10" y="52" font-size="10" fill="#6b7280">Figures Python has no counterpart for (RWLock) are left out here; see summary.md.</text>`,
    ...legend,
    ...axis,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

/** Write one runtime's results file. */
export function writeResult(r: RunResult, dir: URL = RESULTS_DIR): void {
  writeFileSync(new URL(`${r.runtime}.json`, dir), JSON.stringify(r, null, 2) + "\n");
}

/** Regenerate summary.md and ratios.svg from every full-run results file. */
export function writeSummary(): void {
  const results = readResults();
  if (results.length === 0) return;
  writeFileSync(new URL("summary.md", RESULTS_DIR), summaryMarkdown(results));
  writeFileSync(new URL("ratios.svg", RESULTS_DIR), ratiosSvg(results));
}

import process from "node:process";
import { ProcessError } from "../errors.ts";
import { makeRuntime } from "./_common.ts";
import type { Launch } from "./_worker_threads.ts";
import type { Runtime } from "./types.ts";

const TS_MODULE = /\.(?:ts|mts|cts|tsx)$/;
const TSX_READY = Symbol.for("mproc.tsxRegistered");

// Node 20 cannot load a `.ts` module in a worker, even when the parent runs under
// `--import tsx`. A tiny eval'd script registers tsx's loader in the worker first, then
// imports the entry; plain `.js` entries (the published dist/) skip it.
const TSX_BOOT = `
const { workerData } = require("node:worker_threads");
import(workerData.tsx)
  .then(({ register }) => { register(); globalThis[Symbol.for("mproc.tsxRegistered")] = true; return import(workerData.entry); })
  .catch((error) => { console.error(error); process.exit(1); });
`;

const resolved = new Map<string, string>();

function resolveTsx(needer: string, specifier = "tsx/esm/api"): string {
  let url = resolved.get(specifier);
  if (url !== undefined) return url;
  try {
    url = import.meta.resolve(specifier);
  } catch (cause) {
    throw new ProcessError(
      `Cannot load "${needer}" in a worker: Node runs TypeScript in workers only through the "tsx" package, which is not installed: run "npm i -D tsx", or point the task at compiled JavaScript`,
      { cause },
    );
  }
  resolved.set(specifier, url);
  return url;
}

function isTypeScript(url: string): boolean {
  return TS_MODULE.test(new URL(url).pathname);
}

const launch: Launch = ({ entry, data }) => {
  if (!isTypeScript(entry)) return { filename: new URL(entry), eval: false, data: { data } };
  return { filename: TSX_BOOT, eval: true, data: { tsx: resolveTsx(entry), entry, data } };
};

async function importModule(url: string): Promise<Record<string, unknown>> {
  const g = globalThis as Record<symbol, unknown>;
  if (isTypeScript(url) && !g[TSX_READY]) {
    const { register } = await import(resolveTsx(url));
    register();
    g[TSX_READY] = true;
  }
  return await import(url);
}

// An OS child loads a `.ts` entry through tsx's loader, named by its resolved URL so the
// child finds it wherever it runs.
function forkArgs(entry: string): string[] {
  return isTypeScript(entry) ? ["--import", resolveTsx(entry, "tsx")] : [];
}

/** Build the Node adapter. */
export function createRuntime(): Runtime {
  return makeRuntime(
    "node",
    { ...process.versions } as Record<string, string>,
    launch,
    importModule,
    undefined,
    forkArgs,
  );
}

// Entry modules of workers inside single-file programs. A bundler (`bun build --compile`)
// folds every module into one file, so `import.meta.url` names the bundle in every module
// and an entry URL computed beside it (`_pool_worker.ts` next to `_scheduler.ts`) names
// the bundle too. A worker started on it would run the whole program again, which starts
// workers of its own. Instead such a worker is told which entry it was started for, and
// the module that owns that entry runs it and holds back the rest of the bundle (the
// user's main code) for good, as a top-level await that never settles.
import { runtime } from "../_runtime/mod.ts";

const MARK = "#mproc-entry=";

/**
 * The URL of the entry module `entry` beside the module at `metaUrl`, whose file name is
 * `self` (both without extension). Inside a bundle it is the bundle's URL marked with the
 * entry's name, which {@linkcode splitEntry} takes apart again.
 */
export function entryBeside(metaUrl: string, self: string, entry: string): URL {
  const own = new RegExp(`(^|/)${self}\\.(ts|js|mts|mjs)$`);
  const url = new URL(metaUrl);
  url.hash = "";
  if (own.test(url.pathname)) return new URL(url.href.replace(new RegExp(`${self}\\.(\\w+)$`), `${entry}.$1`));
  return new URL(`${url.href}${MARK}${entry}`);
}

/** The URL to start and, inside a bundle, the name of the entry the bundle must run. */
export function splitEntry(url: URL): { href: string; bundled: string | undefined } {
  const at = url.href.indexOf(MARK);
  if (at === -1) return { href: url.href, bundled: undefined };
  return { href: url.href.slice(0, at), bundled: url.href.slice(at + MARK.length) };
}

/** The entry this thread was started for, when it runs a bundle; read once by each owner. */
function bundledEntry(): string | undefined {
  if (runtime.isMainThread) return undefined;
  const init = runtime.workerData() as { bundled?: unknown } | undefined;
  return typeof init?.bundled === "string" ? init.bundled : undefined;
}

/**
 * What to add to "a task module failed to load" inside a single-file program: there a
 * task module exists only when it was compiled in as an entry of its own.
 */
export function singleFileHint(): string {
  if (bundledEntry() === undefined) return "";
  return "; this program is a single-file build, which holds a task module only when it is compiled in as an entry of its own: list it after the main module (bun build --compile main.ts tasks.ts)";
}

const NEVER = new Promise<never>(() => {});
const RAN = Symbol.for("mproc.bundledEntryRan");

/**
 * In a worker started on a bundle for `entry`: load it, then never settle, so the code of
 * the bundle after the caller (the program's own main code) does not run in this worker.
 * Anywhere else: resolve at once. Owners call it with a top-level await.
 */
export async function runIfBundled(entry: string, load: () => Promise<unknown>): Promise<void> {
  if (bundledEntry() !== entry) return;
  // A task module compiled in as an entry of its own carries a second copy of this package
  // when it imports from it; that copy must not start the worker a second time.
  const g = globalThis as { [RAN]?: true };
  if (g[RAN]) return;
  g[RAN] = true;
  await load();
  await NEVER;
}

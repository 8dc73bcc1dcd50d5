// What a BullMQ job carries between the executor and the workers, and how a task's module
// is named so that two machines with the project in different folders find the same file.
import type { Wire } from "./_wire.ts";

/** How the worker runs a job: one call, or a chunk of a map or a starmap. */
export type JobMode = "call" | "map" | "starmap";

/** The data of one job. */
export interface JobData {
  /** The task's module: a path relative to the project root, or a package specifier. */
  module: string;
  /** The export name. */
  name: string;
  mode: JobMode;
  /** The argument list (call), or the chunk's items (map, starmap), as tagged JSON. */
  args: Wire;
}

/** What a job returns: the task's value or the error it threw, both as tagged JSON. */
export type JobOutcome = { ok: true; value: Wire } | { ok: false; error: Wire };

// Specifiers every machine resolves alike; http(s) would let a client make a worker load
// code from anywhere, so it is not among them.
const PACKAGE_SCHEMES = ["npm:", "jsr:", "node:"];

/**
 * The root as a directory URL: a `file:` URL, or a path (relative paths from `cwd`).
 *
 * @throws {TypeError} when `root` is neither
 */
export function rootUrl(root: string | URL, cwd: string, what: string): URL {
  let url: URL;
  try {
    url = root instanceof URL
      ? new URL(root.href)
      : /^file:/i.test(root)
      ? new URL(root)
      : new URL(root, new URL(`file://${cwd.startsWith("/") ? "" : "/"}${cwd.replaceAll("\\", "/")}/`));
  } catch (cause) {
    throw new TypeError(`Cannot ${what}: the root must be a directory path or file: URL, got "${String(root)}"`, {
      cause,
    });
  }
  if (url.protocol !== "file:") {
    throw new TypeError(`Cannot ${what}: the root must be a directory path or file: URL, got "${url.href}"`);
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  url.search = "";
  url.hash = "";
  return url;
}

/**
 * Name a task's module for the job: its path under `root`, or the specifier itself for a
 * package.
 *
 * @throws {TypeError} when the module is a file outside `root`, or not a file at all
 */
export function jobModule(module: string, root: URL, taskName: string): string {
  if (PACKAGE_SCHEMES.some((scheme) => module.startsWith(scheme))) return module;
  const url = new URL(module);
  if (url.protocol === "file:" && url.href.startsWith(root.href)) {
    return decodeURIComponent(url.pathname.slice(root.pathname.length));
  }
  throw new TypeError(
    `Cannot submit task "${taskName}": its module ${module} is not under the executor's root ${root.href}; `
      + `workers find modules by their path under the root, so pass the project folder as root`,
  );
}

/**
 * The URL a worker imports for a job's module, resolved against its own root.
 *
 * @throws {Error} when the path leaves the root or names no supported specifier
 */
export function workerModule(module: string, root: URL, taskName: string): string {
  if (PACKAGE_SCHEMES.some((scheme) => module.startsWith(scheme))) return module;
  let url: URL | undefined;
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(module) && !module.startsWith("/")) {
    url = new URL(module.split("/").map(encodeURIComponent).join("/"), root);
  }
  if (url === undefined || !url.href.startsWith(root.href)) {
    throw new Error(
      `Cannot run task "${taskName}": its module "${module}" is not a path under the worker's root ${root.href}`,
    );
  }
  return url.href;
}

/**
 * Naming code that runs in a worker. Workers load modules, not closures, so a task is a
 * module URL plus an export name, typed by the function it names.
 *
 * @module
 */

/** Any function a task may name. */
// deno-lint-ignore no-explicit-any
export type AnyFunction = (...args: any[]) => unknown;

/**
 * A reference to an exported function: a plain, cloneable `{ module, name }` that carries
 * the function's type for the compiler only.
 *
 * @typeParam F the function's type
 */
export interface TaskRef<F extends AnyFunction = AnyFunction> {
  /** URL of the module that exports the function. */
  readonly module: string;
  /** Name of the export; `"default"` for the default export. */
  readonly name: string;
  /** Type only: never present at run time. */
  readonly __fn?: F;
}

/** The result type of a task once awaited. */
export type TaskResult<F extends AnyFunction> = Awaited<ReturnType<F>>;

/** A typed handle on a whole task module: one {@linkcode TaskRef} per exported function. */
export type TaskModule<M> = {
  readonly [K in keyof M as M[K] extends AnyFunction ? K : never]: M[K] extends AnyFunction ? TaskRef<M[K]> : never;
};

function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  try {
    return new URL(module).href;
  } catch (cause) {
    throw new TypeError(
      `Cannot name a task in "${module}": the module must be an absolute URL, e.g. new URL("./tasks.ts", import.meta.url)`,
      { cause },
    );
  }
}

/**
 * Name one exported function of a module.
 *
 * @typeParam F the function's type, e.g. `typeof import("./tasks.ts").fib`
 * @param module absolute URL of the module (`new URL("./tasks.ts", import.meta.url)`)
 * @param name export name
 * @returns a cloneable reference
 * @throws {TypeError} when `module` is not an absolute URL
 *
 * @example Usage
 * ```ts
 * import { task } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const len = task<(s: string) => number>(new URL("./tasks.ts", import.meta.url), "len");
 * assert.equal(len.name, "len");
 * ```
 */
export function task<F extends AnyFunction = AnyFunction>(module: string | URL, name = "default"): TaskRef<F> {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`Cannot name a task: the export name must be a non-empty string, got ${String(name)}`);
  }
  return { module: moduleUrl(module), name };
}

/**
 * A typed view of a task module: `tasks.fib` is a {@linkcode TaskRef} typed from the
 * module's own export, so arguments and results are checked at compile time.
 *
 * @typeParam M the module's type, `typeof import("./tasks.ts")`
 * @param module absolute URL of the module
 * @returns an object whose properties are task references
 *
 * @example Usage
 * ```ts
 * import { taskModule } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const tasks = taskModule<{ fib(n: number): number }>(new URL("./tasks.ts", import.meta.url));
 * assert.equal(tasks.fib.name, "fib");
 * ```
 */
export function taskModule<M>(module: string | URL): TaskModule<M> {
  const url = moduleUrl(module);
  const refs = new Map<string, TaskRef>();
  return new Proxy({}, {
    get(_target, key) {
      // `then` must stay absent so the view is not mistaken for a promise.
      if (typeof key !== "string" || key === "then") return undefined;
      let ref = refs.get(key);
      if (ref === undefined) refs.set(key, ref = { module: url, name: key });
      return ref;
    },
  }) as TaskModule<M>;
}

/** Whether `value` looks like a {@linkcode TaskRef}. */
export function isTaskRef(value: unknown): value is TaskRef {
  return typeof value === "object" && value !== null && typeof (value as TaskRef).module === "string"
    && typeof (value as TaskRef).name === "string";
}

// The names of the start methods, checked where a caller gives one.
import type { StartMethod } from "./start_method.ts";

/** Every start method, the default first. */
export const METHODS: readonly StartMethod[] = ["thread", "process"];

/**
 * Check that `method` names a start method.
 *
 * @throws {RangeError} when it does not
 */
export function checkStartMethod(method: unknown, what: string): StartMethod {
  if (!METHODS.includes(method as StartMethod)) {
    throw new RangeError(
      `Cannot ${what}: no start method is called ${
        typeof method === "string" ? `"${method}"` : String(method)
      }: use "thread" or "process"`,
    );
  }
  return method as StartMethod;
}

// Errors cross threads as plain records: structured clone keeps only built-in error
// classes, and their stacks differ by runtime. A record rebuilds as the same class when
// it is a built-in or one of ours, and as a RemoteError otherwise.
import * as errors from "../errors.ts";
import { RemoteError } from "../errors.ts";

/** An error as it crosses a thread boundary. */
export interface ErrorRecord {
  name: string;
  message: string;
  stack?: string;
  /** Set when the thrown value was not an Error at all. */
  value?: unknown;
}

const BUILTIN: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Turn anything thrown into a record. */
export function errorToRecord(error: unknown): ErrorRecord {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack };
  }
  let value: unknown = error;
  try {
    structuredClone(value);
  } catch {
    value = String(error);
  }
  return { name: "Error", message: `A non-error value was thrown: ${String(error)}`, value };
}

/** Rebuild an error from a record; the remote stack is kept as `remoteStack` and as `stack`. */
export function recordToError(record: ErrorRecord): Error {
  const ours = (errors as Record<string, unknown>)[record.name];
  let error: Error;
  if (BUILTIN[record.name] !== undefined) error = new BUILTIN[record.name](record.message);
  else if (typeof ours === "function" && ours.prototype instanceof Error && ours.length <= 2) {
    error = new (ours as new(message: string) => Error)(record.message);
  } else return new RemoteError(record.message, record.name, record.stack);
  Object.defineProperty(error, "remoteStack", { value: record.stack, enumerable: false, configurable: true });
  if (record.stack !== undefined) error.stack = record.stack;
  return error;
}

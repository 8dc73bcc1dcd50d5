// Errors cross threads and processes as plain records: structured clone keeps only
// built-in error classes, drops their own fields, and their stacks differ by runtime. A
// record says which family the error came from, so a DOMException named "TimeoutError"
// (AbortSignal.timeout) never turns into this package's TimeoutError, and each of our
// classes comes back with its fields. Anything else becomes a RemoteError.
import * as errors from "../errors.ts";
import { RemoteError } from "../errors.ts";

/** Where a recorded error's class comes from, which decides how it is rebuilt. */
export type ErrorFamily = "builtin" | "dom" | "package" | "other";

/** An error as it crosses a thread or process boundary. */
export interface ErrorRecord {
  name: string;
  message: string;
  stack?: string;
  /** How to rebuild it; absent in records from older code, read as "builtin" or "package" by name. */
  family?: ErrorFamily;
  /** The error's own cloneable fields (`exitCode`, `value`, `code`...). */
  fields?: Record<string, unknown>;
  /** The `cause`, recorded the same way when it is an error. */
  cause?: ErrorRecord;
  /** A `cause` that is not an error (`{ cause: { status: 404 } }`), copied as it is. */
  causeValue?: unknown;
  /** For an AggregateError: its errors. */
  errors?: ErrorRecord[];
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
  AggregateError: AggregateError as unknown as ErrorConstructor,
};

const PACKAGE = errors as unknown as Record<string, (new(...args: never[]) => Error) | undefined>;

// A cause chain can be cyclic or long; past this depth the rest is dropped.
const MAX_DEPTH = 8;

// A class is known by its name only when the error really is an instance of the class of
// that name: a DOMException or a user's class may reuse "TimeoutError" or "TypeError".
function familyOf(error: Error): ErrorFamily {
  if (typeof DOMException === "function" && error instanceof DOMException) return "dom";
  const builtin = Object.hasOwn(BUILTIN, error.name) ? BUILTIN[error.name] : undefined;
  if (builtin !== undefined && error instanceof builtin) return "builtin";
  const ours = Object.hasOwn(PACKAGE, error.name) ? PACKAGE[error.name] : undefined;
  if (typeof ours === "function" && error instanceof ours) return "package";
  return "other";
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** Turn anything thrown into a record. */
export function errorToRecord(error: unknown, depth = 0): ErrorRecord {
  if (!(error instanceof Error)) {
    const value = cloneable(error) ? error : String(error);
    return { name: "Error", message: `A non-error value was thrown: ${String(error)}`, value };
  }
  const record: ErrorRecord = { name: error.name, message: error.message, stack: error.stack, family: familyOf(error) };
  let fields: Record<string, unknown> | undefined;
  for (const key of Object.keys(error)) {
    if (key === "name" || key === "message" || key === "stack" || key === "cause") continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (record.family === "builtin" && key === "errors") continue;
    // A field that cannot be copied (a function, a socket) stays behind; the rest come along.
    if (cloneable(value)) (fields ??= {})[key] = value;
  }
  if (fields !== undefined) record.fields = fields;
  if (depth < MAX_DEPTH) {
    if (error.cause instanceof Error) record.cause = errorToRecord(error.cause, depth + 1);
    else if (error.cause !== undefined) record.causeValue = cloneable(error.cause) ? error.cause : String(error.cause);
    if (error instanceof AggregateError) record.errors = error.errors.map((e) => errorToRecord(e, depth + 1));
  }
  return record;
}

function rebuild(record: ErrorRecord): Error {
  const family = record.family ?? (Object.hasOwn(BUILTIN, record.name) ? "builtin" : "package");
  const options = record.cause !== undefined
    ? { cause: recordToError(record.cause) }
    : Object.hasOwn(record, "causeValue")
    ? { cause: record.causeValue }
    : undefined;
  if (family === "dom" && typeof DOMException === "function") {
    const error = new DOMException(record.message, record.name);
    if (options !== undefined) Object.defineProperty(error, "cause", { value: options.cause, configurable: true });
    return error;
  }
  if (family === "builtin" && Object.hasOwn(BUILTIN, record.name)) {
    if (record.name === "AggregateError") {
      return new AggregateError((record.errors ?? []).map(recordToError), record.message, options);
    }
    return new BUILTIN[record.name](record.message, options);
  }
  const ours = Object.hasOwn(PACKAGE, record.name) ? PACKAGE[record.name] : undefined;
  if (family === "package" && typeof ours === "function" && ours.prototype instanceof Error) {
    // Built without running the constructor, whose parameters differ per class; the
    // fields it would have set come from the record.
    const error = Reflect.construct(Error, [record.message, options], ours) as Error;
    error.name = record.name;
    return error;
  }
  return new RemoteError(record.message, record.name, record.stack, options);
}

/**
 * Rebuild an error from a record: the same class with its fields for built-ins,
 * DOMExceptions and this package's errors, a {@linkcode RemoteError} otherwise. The
 * remote stack is kept as `remoteStack` and as `stack`, for a RemoteError too.
 */
export function recordToError(record: ErrorRecord): Error {
  const error = rebuild(record);
  for (const [key, value] of Object.entries(record.fields ?? {})) {
    if (!(key in error)) {
      Object.defineProperty(error, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  if (record.value !== undefined) {
    Object.defineProperty(error, "value", { value: record.value, enumerable: true, configurable: true });
  }
  if (!(error instanceof RemoteError)) {
    Object.defineProperty(error, "remoteStack", { value: record.stack, enumerable: false, configurable: true });
  }
  // The child's stack says where the error was thrown; the local one only where it was rebuilt.
  if (record.stack !== undefined) {
    Object.defineProperty(error, "stack", { value: record.stack, writable: true, configurable: true });
  }
  return error;
}

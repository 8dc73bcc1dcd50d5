// Tasks that throw errors of every shape, return values that cannot be copied, and count
// their calls: the targets of tests/errors_test.ts, run by pools, executors and processes
// in worker threads and OS child processes.
import { currentProcess } from "../../process/mod.ts";

/** A user's error class with its own fields, as libraries define them (Node's `code`). */
export class HttpError extends Error {
  code = "E_HTTP";
  status: number;
  detail = { url: "https://example.test/x", retry: [1, 2] };
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "HttpError";
    this.status = status;
  }
}

/** The error each `kind` names, built the way code throws it. */
export function makeError(kind: string): unknown {
  switch (kind) {
    case "TypeError":
      return new TypeError("type went wrong");
    case "RangeError":
      return new RangeError("range went wrong");
    case "SyntaxError":
      return new SyntaxError("syntax went wrong");
    case "EvalError":
      return new EvalError("eval went wrong");
    case "URIError":
      return new URIError("uri went wrong");
    case "ReferenceError":
      return new ReferenceError("reference went wrong");
    case "AggregateError":
      return new AggregateError(
        [new TypeError("first"), new HttpError("second", 503), new DOMException("third", "NotFoundError")],
        "several went wrong",
      );
    case "DOMException":
      return new DOMException("the clone went wrong", "DataCloneError");
    case "chain": {
      const root = new HttpError("root cause", 404);
      const middle = new TypeError("middle", { cause: root });
      const top = new Error("top", { cause: middle });
      Object.assign(top, { code: "E_TOP", errno: -2, when: new Date(0) });
      return top;
    }
    case "dataCause":
      return new Error("with a data cause", { cause: { status: 404, tags: new Set(["a"]) } });
    case "string":
      return "just a string";
    default:
      throw new RangeError(`no error kind "${kind}"`);
  }
}

/** Throw the error `kind` names. */
export function throwKind(kind: string): never {
  throw makeError(kind);
}

/** Throw the error `kind` names after an await, as an async task does. */
export async function throwKindLater(kind: string): Promise<never> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  throw makeError(kind);
}

class Holder {
  value = 1;
  callback = (): number => this.value;
}

/** Return something that cannot be copied to the parent. */
export function returnUncloneable(kind: string): unknown {
  switch (kind) {
    case "function":
      return () => 1;
    case "symbol":
      return Symbol("local");
    case "holder":
      return new Holder();
    case "nested":
      return { ok: [1, 2], bad: { deep: [() => 2] } };
    default:
      throw new RangeError(`no value kind "${kind}"`);
  }
}

/** Return `x`, or a function when `x` is 3: one bad value inside a map's chunk. */
export function badAtThree(x: number): unknown {
  return x === 3 ? () => x : x;
}

/** This worker's ident. */
export function whoAmI(): number {
  return currentProcess().ident;
}

let calls = 0;

/** Count calls in this worker; the count so far. */
export function countCall(_arg?: unknown): number {
  return ++calls;
}

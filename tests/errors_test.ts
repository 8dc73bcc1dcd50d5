// Errors keep their shape across every boundary: a task's error thrown in a pool worker,
// an executor worker or a Process, in a worker thread or an OS child process, arrives as
// its class with its message, stack, cause chain and own fields; a result that cannot be
// copied back fails only its task; an argument that cannot be copied is refused unsent.
import assert from "node:assert/strict";
import { describe } from "node:test";
import { getContext } from "../context.ts";
import { MaybeEncodingError, ProcessError, RemoteError } from "../errors.ts";
import type { Pool, ProcessPoolExecutor } from "../pool/mod.ts";
import { Process, taskModule } from "../process/mod.ts";
import { after, test, within } from "./_helpers.ts";

const tasks = taskModule<typeof import("./testdata/error_tasks.ts")>(
  new URL("./testdata/error_tasks.ts", import.meta.url),
);

const LIMIT = 20_000;
const THREAD = getContext("thread");
const PROCESS = getContext("process");

const BUILTINS = {
  TypeError,
  RangeError,
  SyntaxError,
  EvalError,
  URIError,
  ReferenceError,
} as const;
const KINDS = [...Object.keys(BUILTINS), "AggregateError", "DOMException", "chain", "dataCause", "string"];

const DOM_HAS_STACK = typeof new DOMException("probe").stack === "string";

type Fields = Record<string, unknown>;

function assertHttpError(error: unknown, message: string, status: number): void {
  assert.ok(error instanceof RemoteError, `expected a RemoteError, got ${String(error)}`);
  assert.equal(error.remoteName, "HttpError");
  assert.equal(error.message, message);
  const fields = error as unknown as Fields;
  assert.equal(fields.code, "E_HTTP");
  assert.equal(fields.status, status);
  assert.deepEqual(fields.detail, { url: "https://example.test/x", retry: [1, 2] });
  assert.match(error.remoteStack ?? "", /HttpError: /);
  assert.match(error.stack ?? "", /error_tasks\.ts/, "the stack is the child's");
}

/** Check that `error` is what makeError(kind) built in the child. */
function assertShape(kind: string, error: unknown): void {
  const where = `kind ${kind}: got ${(error as Error)?.stack ?? String(error)}`;
  if (Object.hasOwn(BUILTINS, kind)) {
    const ctor = BUILTINS[kind as keyof typeof BUILTINS];
    assert.ok(error instanceof ctor, where);
    assert.equal(error.constructor, ctor, where);
    assert.equal(error.name, kind);
    assert.match(error.message, /went wrong$/);
    assert.match(error.stack ?? "", /error_tasks\.ts/, where);
  } else if (kind === "AggregateError") {
    assert.ok(error instanceof AggregateError, where);
    assert.equal(error.message, "several went wrong");
    assert.equal(error.errors.length, 3);
    assert.ok(error.errors[0] instanceof TypeError);
    assert.equal(error.errors[0].message, "first");
    assertHttpError(error.errors[1], "second", 503);
    assert.ok(error.errors[2] instanceof DOMException);
    assert.equal(error.errors[2].name, "NotFoundError");
    assert.equal(error.errors[2].code, 8);
  } else if (kind === "DOMException") {
    assert.ok(error instanceof DOMException, where);
    assert.equal(error.name, "DataCloneError");
    assert.equal(error.code, 25);
    assert.equal(error.message, "the clone went wrong");
    // Bun's DOMException has no stack at all, so there is none to bring.
    if (DOM_HAS_STACK) assert.match(error.stack ?? "", /error_tasks\.ts/, where);
  } else if (kind === "chain") {
    assert.ok(error instanceof Error, where);
    assert.equal(error.constructor, Error, where);
    assert.equal(error.message, "top");
    const fields = error as unknown as Fields;
    assert.equal(fields.code, "E_TOP");
    assert.equal(fields.errno, -2);
    assert.deepEqual(fields.when, new Date(0));
    assert.ok(Object.keys(error).includes("code"), "own fields stay enumerable");
    const middle = error.cause;
    assert.ok(middle instanceof TypeError, `cause: ${String(middle)}`);
    assert.equal(middle.message, "middle");
    assert.match(middle.stack ?? "", /error_tasks\.ts/);
    assertHttpError(middle.cause, "root cause", 404);
  } else if (kind === "dataCause") {
    assert.ok(error instanceof Error, where);
    assert.equal(error.message, "with a data cause");
    assert.deepEqual(error.cause, { status: 404, tags: new Set(["a"]) }, "a cause that is not an error comes as it is");
  } else if (kind === "string") {
    assert.ok(error instanceof Error, where);
    assert.match(error.message, /non-error value was thrown: just a string/);
    assert.equal((error as unknown as Fields).value, "just a string");
  } else {
    assert.fail(`no check for ${kind}`);
  }
}

/** A pool or executor under test: run one task, the same way a user would. */
interface Runner {
  run(fn: typeof tasks[keyof typeof tasks], args: unknown[]): Promise<unknown>;
  map?(fn: typeof tasks.badAtThree, items: number[]): Promise<unknown>;
}

function poolRunner(pool: Pool): Runner {
  return {
    run: (fn, args) => pool.apply(fn as never, args as never),
    map: (fn, items) => pool.map(fn, items, { chunksize: 2 }),
  };
}

function executorRunner(executor: ProcessPoolExecutor): Runner {
  // submit() refuses a bad argument by throwing at once; the async wrapper makes that a rejection.
  return { run: async (fn, args) => await executor.submit(fn as never, ...args as never[]).result() };
}

const runners: [string, () => Runner][] = [];
{
  // One worker each, made once: an OS child takes a while to boot.
  const made = new Map<string, Runner>();
  const closers: (() => Promise<void>)[] = [];
  const lazily = (label: string, make: () => [Runner, () => Promise<void>]) =>
    runners.push([label, () => {
      let runner = made.get(label);
      if (runner === undefined) {
        const [r, close] = make();
        made.set(label, runner = r);
        closers.push(close);
      }
      return runner;
    }]);
  for (const [name, ctx] of [["thread", THREAD], ["process", PROCESS]] as const) {
    lazily(`Pool (${name})`, () => {
      const pool = new ctx.Pool({ processes: 1 });
      return [poolRunner(pool), () => pool.terminate()];
    });
    lazily(`ProcessPoolExecutor (${name})`, () => {
      const executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
      return [executorRunner(executor), () => executor.shutdown({ cancelFutures: true })];
    });
  }
  after(async () => {
    for (const close of closers) await close();
  });
}

for (const [label, runner] of runners) {
  describe(`errors from a task of ${label}`, () => {
    test("every kind of thrown error arrives as its class with its fields, cause chain and stack", {
      timeout: LIMIT,
    }, async () => {
      const r = runner();
      for (const kind of KINDS) {
        const error = await within(r.run(tasks.throwKind, [kind]).then(() => null, (e) => e), LIMIT, kind);
        assertShape(kind, error);
      }
      const later = await within(r.run(tasks.throwKindLater, ["chain"]).then(() => null, (e) => e), LIMIT);
      assertShape("chain", later);
    });

    test("a result that cannot be copied back rejects with MaybeEncodingError naming the task; the worker serves on", {
      timeout: LIMIT,
    }, async () => {
      const r = runner();
      const ident = await within(r.run(tasks.whoAmI, []), LIMIT, "whoAmI");
      for (const kind of ["function", "symbol", "holder", "nested"]) {
        await assert.rejects(within(r.run(tasks.returnUncloneable, [kind]), LIMIT, kind), (error: Error) => {
          assert.ok(error instanceof MaybeEncodingError, `${kind}: ${String(error?.stack)}`);
          assert.ok(error instanceof ProcessError);
          assert.match(error.message, /task "returnUncloneable"/);
          assert.match(error.message, /cannot be copied/);
          assert.equal(error.taskName, "returnUncloneable");
          return true;
        });
        assert.equal(await within(r.run(tasks.whoAmI, []), LIMIT, "whoAmI"), ident, "the same worker serves on");
      }
      if (r.map !== undefined) {
        await assert.rejects(within(r.map(tasks.badAtThree, [1, 2, 3, 4, 5]), LIMIT), (error: Error) => {
          assert.ok(error instanceof MaybeEncodingError, String(error?.stack));
          assert.match(error.message, /task "badAtThree"/);
          return true;
        });
        assert.equal(await within(r.run(tasks.whoAmI, []), LIMIT, "whoAmI"), ident);
      }
    });

    test("an argument that cannot be copied is refused, naming it, and nothing is sent", {
      timeout: LIMIT,
    }, async () => {
      const r = runner();
      const before = await within(r.run(tasks.countCall, []), LIMIT, "countCall") as number;
      for (
        const bad of [{ cb: () => 1 }, { s: Symbol("x") }, {
          h: new (class {
            f = () => 1;
          })(),
        }]
      ) {
        await assert.rejects(within(r.run(tasks.countCall, [bad]), LIMIT), (error: Error) => {
          assert.ok(error instanceof TypeError, String(error?.stack));
          assert.match(error.message, /args\[0\]\.(cb|s|h)/);
          return true;
        });
      }
      assert.equal(await within(r.run(tasks.countCall, []), LIMIT), before + 1, "no refused call ran");
    });
  });
}

for (const [name, ctx] of [["thread", THREAD], ["process", PROCESS]] as const) {
  describe(`errors from a Process (${name})`, () => {
    test("the uncaught error of a target arrives on p.error with its shape, and exitCode is 1", {
      timeout: 2 * LIMIT,
    }, async () => {
      // The boots overlap: every process starts before the first is joined. The pools above
      // cover every kind through the same codec; these are the ones with the most structure.
      const kinds = ["URIError", "AggregateError", "DOMException", "chain", "dataCause", "string"];
      const started = kinds.map((kind) => {
        const p = new ctx.Process({ target: tasks.throwKind, args: [kind], name: `throw-${kind}` });
        assert.ok(p instanceof Process);
        p.start();
        return [kind, p] as const;
      });
      for (const [kind, p] of started) {
        await within(p.join(), LIMIT, `join ${kind}`);
        assert.equal(p.exitCode, 1, kind);
        assertShape(kind, p.error);
      }
    });

    test("an argument that cannot be copied is refused at start(), naming it", { timeout: LIMIT }, () => {
      const p = new ctx.Process({ target: tasks.countCall, args: [{ cb: () => 1 }] });
      assert.throws(
        () => p.start(),
        (error: Error) => error instanceof TypeError && /args\[0\]\.cb/.test(error.message),
      );
    });
  });
}

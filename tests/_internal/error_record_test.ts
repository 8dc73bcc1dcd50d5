import assert from "node:assert/strict";
import { describe } from "node:test";
import { errorToRecord, recordToError } from "../../_internal/error_record.ts";
import * as errors from "../../errors.ts";
import {
  BufferTooShortError,
  FullError,
  OwnerDiedError,
  ProcessError,
  RemoteError,
  TimeoutError,
  WorkerDiedError,
} from "../../errors.ts";
import { test } from "../_helpers.ts";

/** Through a record and a structured clone, as an error crosses to another thread or process. */
function roundTrip(error: unknown): Error {
  return recordToError(structuredClone(errorToRecord(error)));
}

describe("error record codec", () => {
  test("recordToError() rebuilds built-in and package errors with the remote stack", { timeout: 20_000 }, () => {
    const type = roundTrip(new TypeError("bad"));
    assert.ok(type instanceof TypeError);
    assert.equal(type.message, "bad");
    assert.match((type as Error & { remoteStack: string }).remoteStack, /error_record_test/);
    assert.match(type.stack ?? "", /error_record_test/);
    const ours = roundTrip(new TimeoutError("slow"));
    assert.ok(ours instanceof TimeoutError);
  });

  test("recordToError() gives a RemoteError for other classes and non-errors", { timeout: 20_000 }, () => {
    class MyError extends Error {
      override name = "MyError";
      code = "E_MINE";
    }
    const mine = roundTrip(new MyError("mine"));
    assert.ok(mine instanceof RemoteError);
    assert.equal(mine.remoteName, "MyError");
    assert.equal((mine as RemoteError & { code: string }).code, "E_MINE", "cloneable fields come along");
    const thrown = errorToRecord({ code: 7 });
    assert.deepEqual(thrown.value, { code: 7 });
    assert.match(recordToError(thrown).message, /non-error value/);
  });

  test("recordToError() keeps a DOMException named TimeoutError apart from the package's TimeoutError", {
    timeout: 20_000,
  }, async () => {
    const signal = AbortSignal.timeout(1);
    while (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
    const back = roundTrip(signal.reason);
    assert.ok(back instanceof DOMException, `got ${back.constructor.name}`);
    assert.ok(!(back instanceof TimeoutError));
    assert.equal(back.name, "TimeoutError");
    assert.equal(back.message, (signal.reason as Error).message);
    const abort = roundTrip(new DOMException("stopped", "AbortError"));
    assert.ok(abort instanceof DOMException);
    assert.equal(abort.name, "AbortError");
  });

  test("recordToError() rebuilds a user class named like a package or built-in class as a RemoteError", {
    timeout: 20_000,
  }, () => {
    class TimeoutError extends Error {
      override name = "TimeoutError";
    }
    const back = roundTrip(new TimeoutError("not ours"));
    assert.ok(back instanceof RemoteError);
    assert.equal(back.remoteName, "TimeoutError");
  });

  test("recordToError() rebuilds every error class of the package with its fields", { timeout: 20_000 }, () => {
    const data = new Uint8Array([1, 2, 3]);
    const samples: Record<string, Error> = {
      ProcessError: new ProcessError("p"),
      TimeoutError: new TimeoutError("t"),
      EmptyError: new errors.EmptyError("e"),
      FullError: new FullError("f", { item: [1, 2] }),
      EOFError: new errors.EOFError("eof"),
      BrokenBarrierError: new errors.BrokenBarrierError("b"),
      BrokenProcessPoolError: new errors.BrokenProcessPoolError("bp"),
      WorkerDiedError: new WorkerDiedError("w", -9, 12),
      MaybeEncodingError: new errors.MaybeEncodingError("m", "task"),
      CancelledError: new errors.CancelledError("c"),
      InvalidStateError: new errors.InvalidStateError("i"),
      AuthenticationError: new errors.AuthenticationError("a"),
      RemoteError: new RemoteError("r", "CustomError", "CustomError: r\n    at somewhere"),
      OwnerDiedError: new OwnerDiedError("o", 33),
      BufferTooShortError: new BufferTooShortError("s", data),
      FileExistsError: new errors.FileExistsError("x", "psm_1"),
      FileNotFoundError: new errors.FileNotFoundError("n", "psm_2"),
      JobFailedError: new errors.JobFailedError("j", "job-1"),
    };
    const classes = Object.entries(errors).filter(([, v]) => typeof v === "function");
    assert.deepEqual(classes.map(([k]) => k).sort(), Object.keys(samples).sort(), "a sample for every class");
    for (const [name, Class] of classes) {
      const original = samples[name];
      const back = roundTrip(original);
      assert.ok(back instanceof (Class as typeof Error), `${name} is rebuilt as ${name}, got ${back.constructor.name}`);
      assert.ok(back instanceof ProcessError);
      assert.equal(back.name, name);
      assert.equal(back.message, original.message);
      for (const key of Object.keys(original)) {
        assert.deepEqual((back as never)[key], (original as never)[key], `${name}.${key}`);
      }
    }
    const died = roundTrip(samples.WorkerDiedError) as WorkerDiedError;
    assert.equal(died.exitCode, -9);
    assert.equal(died.ident, 12);
    assert.deepEqual((roundTrip(samples.FullError) as FullError).value, { item: [1, 2] });
    assert.equal((roundTrip(samples.OwnerDiedError) as OwnerDiedError).ownerIdent, 33);
    assert.deepEqual((roundTrip(samples.BufferTooShortError) as BufferTooShortError).data, data);
    assert.equal((roundTrip(samples.RemoteError) as RemoteError).remoteName, "CustomError");
  });

  test("recordToError() keeps the cause chain and an AggregateError's errors", { timeout: 20_000 }, () => {
    const inner = new RangeError("inner");
    const outer = new WorkerDiedError("outer", 1, 2, { cause: inner });
    const back = roundTrip(outer);
    assert.ok(back instanceof WorkerDiedError);
    assert.ok(back.cause instanceof RangeError);
    assert.equal((back.cause as Error).message, "inner");
    const plain = roundTrip(new Error("with data", { cause: { code: 7 } }));
    assert.deepEqual(plain.cause, { code: 7 }, "a cause that is not an error comes back as it was");
    const agg = roundTrip(new AggregateError([new TypeError("a"), new FullError("b", 5)], "both"));
    assert.ok(agg instanceof AggregateError);
    assert.ok(agg.errors[0] instanceof TypeError);
    assert.ok(agg.errors[1] instanceof FullError);
    assert.equal(agg.errors[1].value, 5);
    const loop = new Error("loop");
    loop.cause = loop;
    assert.ok(roundTrip(loop).cause instanceof Error, "a cyclic cause chain is cut, not followed forever");
  });
});

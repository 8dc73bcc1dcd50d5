import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { errorToRecord, recordToError } from "../../_internal/error_record.ts";
import { RemoteError, TimeoutError } from "../../errors.ts";

describe("error record codec", () => {
  test("recordToError() rebuilds built-in and package errors with the remote stack", () => {
    const type = recordToError(structuredClone(errorToRecord(new TypeError("bad"))));
    assert.ok(type instanceof TypeError);
    assert.equal(type.message, "bad");
    assert.match((type as Error & { remoteStack: string }).remoteStack, /error_record_test/);
    const ours = recordToError(errorToRecord(new TimeoutError("slow")));
    assert.ok(ours instanceof TimeoutError);
  });

  test("recordToError() gives a RemoteError for other classes and non-errors", () => {
    class MyError extends Error {
      override name = "MyError";
    }
    const mine = recordToError(errorToRecord(new MyError("mine")));
    assert.ok(mine instanceof RemoteError);
    assert.equal(mine.remoteName, "MyError");
    const thrown = errorToRecord({ code: 7 });
    assert.deepEqual(thrown.value, { code: 7 });
    assert.match(recordToError(thrown).message, /non-error value/);
  });
});

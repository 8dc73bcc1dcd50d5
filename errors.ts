/**
 * Error classes of the package. Every error this package throws on purpose is a
 * {@linkcode ProcessError} or one of the built-in `TypeError` / `RangeError`.
 *
 * @module
 */

/**
 * Base class of every error specific to this package, like Python's
 * `multiprocessing.ProcessError`.
 *
 * @example Usage
 * ```ts
 * import { ProcessError, TimeoutError } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * assert.ok(new TimeoutError("Cannot get result: timed out") instanceof ProcessError);
 * ```
 */
export class ProcessError extends Error {
  /**
   * Make an error.
   * @param message what failed and why
   * @param options standard error options (`cause`)
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProcessError";
  }
}

/** A wait ran out of time (Python's `multiprocessing.TimeoutError`). */
export class TimeoutError extends ProcessError {
  /** For a pool map call that timed out: the input index of the first item left unfinished. */
  declare index?: number;
  /** Make an error. @param message what timed out */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/** A non-blocking get found the queue empty (Python's `queue.Empty`). */
export class EmptyError extends ProcessError {
  /** Make an error. @param message what was empty */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EmptyError";
  }
}

/** A non-blocking put found the queue full (Python's `queue.Full`); `value` is the item not sent. */
export class FullError extends ProcessError {
  /** The item that was not put, so it is never lost. */
  readonly value: unknown;
  /** Make an error. @param message what was full @param value the unsent item */
  constructor(message?: string, value?: unknown, options?: ErrorOptions) {
    super(message, options);
    this.name = "FullError";
    this.value = value;
  }
}

/** The other end of a connection is closed and nothing is left to read. */
export class EOFError extends ProcessError {
  /** Make an error. @param message what ended */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EOFError";
  }
}

/** A barrier was aborted or reset while parties were waiting (Python's `threading.BrokenBarrierError`). */
export class BrokenBarrierError extends ProcessError {
  /** Make an error. @param message why the barrier broke */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenBarrierError";
  }
}

/** A process pool executor lost a worker and takes no more work (Python's `BrokenProcessPool`). */
export class BrokenProcessPoolError extends ProcessError {
  /** Make an error. @param message what broke the pool */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenProcessPoolError";
  }
}

/** A worker ended while it still had work; `exitCode` says how it ended. */
export class WorkerDiedError extends ProcessError {
  /** The worker's exit code: N from `exit(N)`, 1 after a crash, -15 / -9 after terminate / kill. */
  readonly exitCode: number | null;
  /** The worker's ident. */
  readonly ident: number | null;
  /**
   * Make an error.
   * @param message what was lost
   * @param exitCode how the worker ended
   * @param ident which worker
   */
  constructor(message?: string, exitCode: number | null = null, ident: number | null = null, options?: ErrorOptions) {
    super(message, options);
    this.name = "WorkerDiedError";
    this.exitCode = exitCode;
    this.ident = ident;
  }
}

/**
 * A task finished but its result cannot be copied back to the caller (a function, a
 * symbol, an object holding one), as Python's `multiprocessing.pool.MaybeEncodingError`.
 * Only that task fails: its worker keeps serving. The copy's own error is the `cause`.
 *
 * @example Usage
 * ```ts
 * import { MaybeEncodingError, ProcessError } from "@mproc/multiprocessing";
 * import assert from "node:assert/strict";
 * const error = new MaybeEncodingError('Cannot send back the result of task "f": it cannot be copied', "f");
 * assert.ok(error instanceof ProcessError);
 * assert.equal(error.taskName, "f");
 * ```
 */
export class MaybeEncodingError extends ProcessError {
  /** The name of the task whose result could not be sent. */
  readonly taskName: string;
  /**
   * Make an error.
   * @param message which result could not be sent and why
   * @param taskName the task's name
   * @param options standard error options (`cause`: the copy's own error)
   */
  constructor(message: string, taskName: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MaybeEncodingError";
    this.taskName = taskName;
  }
}

/** A future or task was cancelled, before it ran or (by an abort signal) while it ran. */
export class CancelledError extends ProcessError {
  /** For a pool map call: the input index of the first item that was cancelled. */
  declare index?: number;
  /** Make an error. @param message what was cancelled */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CancelledError";
  }
}

/** An operation does not fit the object's state (started twice, joined before start, used after close). */
export class InvalidStateError extends ProcessError {
  /** Make an error. @param message what state was wrong */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidStateError";
  }
}

/** A connection's peer failed the authentication handshake. */
export class AuthenticationError extends ProcessError {
  /** Make an error. @param message what failed */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthenticationError";
  }
}

/** An error thrown in another worker whose class could not be rebuilt here. */
export class RemoteError extends ProcessError {
  /** The `name` of the error in the worker. */
  readonly remoteName: string;
  /** The stack of the error in the worker. */
  readonly remoteStack: string | undefined;
  /**
   * Make an error.
   * @param message the remote error's message
   * @param remoteName the remote error's name
   * @param remoteStack the remote error's stack
   */
  constructor(message: string, remoteName: string, remoteStack?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RemoteError";
    this.remoteName = remoteName;
    this.remoteStack = remoteStack;
  }
}

/**
 * The previous owner of a lock ended while holding it. The lock was handed to the
 * caller anyway; shared state the lock guards may be half-updated.
 */
export class OwnerDiedError extends ProcessError {
  /** The ident of the worker that died holding the lock. */
  readonly ownerIdent: number;
  /** Make an error. @param message what was taken over @param ownerIdent the dead owner */
  constructor(message: string, ownerIdent: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "OwnerDiedError";
    this.ownerIdent = ownerIdent;
  }
}

/** A buffer given to `recvBytesInto` is too small; `data` holds the whole message. */
export class BufferTooShortError extends ProcessError {
  /** The complete message that did not fit, so it is not lost. */
  readonly data: Uint8Array;
  /** Make an error. @param message what did not fit @param data the message */
  constructor(message: string, data: Uint8Array, options?: ErrorOptions) {
    super(message, options);
    this.name = "BufferTooShortError";
    this.data = data;
  }
}

/**
 * `SharedMemory.create()` was given a name that is already in use (Python's
 * `FileExistsError`). Nothing was created.
 */
export class FileExistsError extends ProcessError {
  /** The name that exists. */
  readonly filename: string;
  /** Make an error. @param message what failed @param filename the name that exists */
  constructor(message: string, filename: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FileExistsError";
    this.filename = filename;
  }
}

/**
 * No shared memory block goes by this name: it was never created, or it was unlinked
 * (Python's `FileNotFoundError`).
 */
export class FileNotFoundError extends ProcessError {
  /** The name that was not found. */
  readonly filename: string;
  /** Make an error. @param message what failed @param filename the missing name */
  constructor(message: string, filename: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FileNotFoundError";
    this.filename = filename;
  }
}

/**
 * The job engine gave up on a distributed job without a result from the task: its
 * workers died holding it more often than the queue allows, or it was removed from the
 * queue by someone else. The task's own errors arrive as themselves, not as this.
 */
export class JobFailedError extends ProcessError {
  /** The job's id in the queue. */
  readonly jobId: string;
  /** Make an error. @param message what failed @param jobId the job */
  constructor(message: string, jobId: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JobFailedError";
    this.jobId = jobId;
  }
}

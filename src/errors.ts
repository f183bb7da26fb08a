// The error classes of concurrent.futures, with Python's names and CPython's messages.

import type { WorkerExit } from "./runtime/backend.ts";

/**
 * Base class of the errors that futures themselves raise: Python's `concurrent.futures.Error`, renamed so that
 * it does not shadow the global `Error`.
 *
 * @example Catching any futures error
 * ```ts
 * import { CancelledError, FuturesError } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new CancelledError() instanceof FuturesError);
 * ```
 */
export class FuturesError extends Error {
  static {
    this.prototype.name = "FuturesError";
  }
}

/**
 * Thrown by `result()` and `exception()` of a future that was cancelled.
 *
 * @example
 * ```ts
 * import { CancelledError, Future } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * const future = new Future<number>();
 * future.cancel();
 * await assert.rejects(future.result(), CancelledError);
 * ```
 */
export class CancelledError extends FuturesError {
  static {
    this.prototype.name = "CancelledError";
  }
}

/**
 * Thrown by `setResult()` and `setException()` on a future that is already done. The message is CPython's:
 * the state, a colon and the future's repr.
 *
 * @example
 * ```ts
 * import { Future, InvalidStateError } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * const future = new Future<number>();
 * future.setResult(1);
 * assert.throws(() => future.setResult(2), InvalidStateError);
 * ```
 */
export class InvalidStateError extends FuturesError {
  static {
    this.prototype.name = "InvalidStateError";
  }
}

/**
 * Thrown when a wait runs out of time: `result(ms)`, `exception(ms)`, `map` with `timeout`, `asCompleted`.
 * Its name equals the name of the `DOMException` that `AbortSignal.timeout()` uses, so
 * `error.name === "TimeoutError"` catches both.
 *
 * @example
 * ```ts
 * import { Future, TimeoutError } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(new Future().result(0), TimeoutError);
 * ```
 */
export class TimeoutError extends Error {
  static {
    this.prototype.name = "TimeoutError";
  }
}

/**
 * Python's `RuntimeError`: thrown by `submit` and `map` after `shutdown()` ("cannot schedule new futures after
 * shutdown"), and the base class of {@linkcode BrokenExecutor}.
 *
 * @example
 * ```ts
 * import { BrokenProcessPool, RuntimeError } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new BrokenProcessPool() instanceof RuntimeError);
 * ```
 */
export class RuntimeError extends Error {
  static {
    this.prototype.name = "RuntimeError";
  }
}

/**
 * An executor that can no longer run work.
 *
 * @example
 * ```ts
 * import { BrokenExecutor, BrokenProcessPool } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new BrokenProcessPool() instanceof BrokenExecutor);
 * ```
 */
export class BrokenExecutor extends RuntimeError {
  static {
    this.prototype.name = "BrokenExecutor";
  }
}

/**
 * A worker of the pool died (crashed, was killed, exited, or its initializer or task-module import failed).
 * Every unfinished future fails with it, and `submit` throws it from then on. Its `cause` says which worker
 * died and how.
 *
 * @example Telling a broken pool from a task error
 * ```ts
 * import { BrokenProcessPool } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * const error = new BrokenProcessPool("worker 1 exited", { cause: new Error("exit code 3") });
 * assert.equal(error.name, "BrokenProcessPool");
 * ```
 */
export class BrokenProcessPool extends BrokenExecutor {
  static {
    this.prototype.name = "BrokenProcessPool";
  }
}

/** CPython's message for a future that a broken pool failed. */
export const BROKEN_FUTURE_MESSAGE =
  "A process in the process pool was terminated abruptly while the future was running or pending.";
/** CPython's message for `submit` on a broken pool. */
export const BROKEN_SUBMIT_MESSAGE = "A child process terminated abruptly, the process pool is not usable anymore";
/** CPython's message for `submit` after shutdown. */
export const SHUTDOWN_SUBMIT_MESSAGE = "cannot schedule new futures after shutdown";

/**
 * Why a worker died: the `cause` of the {@linkcode BrokenProcessPool} that a crash or an exit produces.
 *
 * @example
 * ```ts
 * import { WorkerExitError } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * const error = new WorkerExitError("node-process", 1234, { code: 3, signal: null });
 * assert.equal(error.message, "worker 1234 (node-process) exited with code 3");
 * ```
 */
export class WorkerExitError extends Error {
  static {
    this.prototype.name = "WorkerExitError";
  }
  /** The pid or thread id. */
  readonly workerId: number;
  /** The exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal, or `null`. */
  readonly signal: string | null;

  /**
   * Describes the exit: "worker 1234 (node-process) exited with code 3", "… was killed by SIGKILL", "… died".
   *
   * @param backend The backend's name ("node-process", …).
   * @param workerId The pid or thread id.
   * @param exit How the worker ended; its `error`, when given, becomes the `cause`.
   */
  constructor(backend: string, workerId: number, exit: WorkerExit) {
    const how = exit.signal !== null
      ? `was killed by ${exit.signal}`
      : exit.code === null
      ? "died"
      : `exited with code ${exit.code}`;
    super(`worker ${workerId} (${backend}) ${how}`, exit.error === undefined ? undefined : { cause: exit.error });
    this.workerId = workerId;
    this.code = exit.code;
    this.signal = exit.signal;
  }
}

/**
 * Why a pool broke when a worker sent something the pool cannot read: the `cause` of its
 * {@linkcode BrokenProcessPool}. Names the worker, and its `cause` is the problem with the frame. Task code that
 * posts its own messages (`parentPort.postMessage`, `process.send`) never causes it: those are not the pool's.
 *
 * @example
 * ```ts
 * import { WorkerProtocolError } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * const error = new WorkerProtocolError("node-process", 1234, new TypeError("not a tagged array: 5"));
 * assert.equal(error.message, "worker 1234 (node-process) sent a frame the pool cannot read: not a tagged array: 5");
 * ```
 */
export class WorkerProtocolError extends Error {
  static {
    this.prototype.name = "WorkerProtocolError";
  }
  /** The pid or thread id. */
  readonly workerId: number;

  /**
   * Names the worker and the problem: "worker 1234 (node-process) sent a frame the pool cannot read: …".
   *
   * @param backend The backend's name ("node-process", …).
   * @param workerId The pid or thread id.
   * @param problem What is wrong with the frame; it becomes the `cause`, and its message ends this one's.
   */
  constructor(backend: string, workerId: number, problem: Error) {
    super(`worker ${workerId} (${backend}) sent a frame the pool cannot read: ${problem.message}`, { cause: problem });
    this.workerId = workerId;
  }
}

/**
 * procpool: Python's `concurrent.futures.ProcessPoolExecutor`, with its exact exception semantics, for Deno,
 * Bun and Node.
 *
 * - An initializer that fails breaks the pool: every pending and later task fails with `BrokenProcessPool`.
 * - A task that throws fails only its own future: `result()` rethrows the error with the worker's stack.
 * - A done-callback that throws is logged and changes nothing else.
 *
 * The rule book, `docs/rules.md` in this package, states the rules R1–R10 that the tests are named after.
 *
 * @example Quick start
 * ```ts
 * import { ProcessPoolExecutor } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new ProcessPoolExecutor({
 *   module: new URL("./conformance/tasks/basic.ts", import.meta.url),
 *   maxWorkers: 2,
 * });
 * const future = pool.submit("double", 21);
 * assert.equal(await future.result(), 42);
 * ```
 *
 * @module
 */

export { ProcessPoolExecutor } from "./src/executor.ts";
export type { ProcessPoolExecutorOptions, ShutdownOptions, SubmitOptions, TaskFunction } from "./src/executor.ts";
export type { MapIterator, MapOptions } from "./src/map.ts";
export { Future } from "./src/future.ts";
export type { DoneCallback, FutureState } from "./src/future.ts";
export { ALL_COMPLETED, asCompleted, FIRST_COMPLETED, FIRST_EXCEPTION, wait } from "./src/wait.ts";
export type {
  AsCompletedOptions,
  CompletedFuture,
  DoneAndNotDone,
  ResultOf,
  ReturnWhen,
  WaitOptions,
} from "./src/wait.ts";
export {
  BrokenExecutor,
  BrokenProcessPool,
  CancelledError,
  FuturesError,
  InvalidStateError,
  RuntimeError,
  TimeoutError,
  WorkerExitError,
  WorkerProtocolError,
} from "./src/errors.ts";
export { transfer } from "./src/transfer.ts";
export { setLogger } from "./src/logger.ts";
export type { Logger } from "./src/logger.ts";
export type {
  Backend,
  BackendOptions,
  DenoPermissionMap,
  DenoPermissions,
  DenoPermissionValue,
  ParentPort,
  WorkerExit,
  WorkerHandle,
} from "./src/runtime/backend.ts";
export type { BackendKind } from "./src/runtime/detect.ts";
export type { Buffers } from "./src/protocol.ts";

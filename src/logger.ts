// The replaceable logger through which done-callback errors (and other swallowed errors) are reported.

/** Receives a message such as "exception calling callback for <Future at #1 state=finished returned number>"
 * and the error that was swallowed. */
export type Logger = (message: string, error: unknown) => void;

const defaultLogger: Logger = (message, error) => {
  // Looked up at the moment of logging, so that a console.error replaced later is honoured.
  console.error(message, error);
};

let current: Logger = defaultLogger;

/**
 * Replaces the logger that reports swallowed errors, such as a done-callback that throws (Python logs those on
 * the `concurrent.futures` logger). The default calls `console.error(message, error)`. Passing `undefined`
 * restores the default.
 *
 * @param logger The new logger, or `undefined` for the default.
 * @returns The logger that was in place before.
 *
 * @example Collecting callback errors
 * ```ts
 * import { Future, setLogger } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const previous = setLogger((message) => seen.push(message));
 * const future = new Future<number>();
 * future.addDoneCallback(() => {
 *   throw new Error("boom");
 * });
 * future.setResult(1);
 * setLogger(previous);
 * assert.match(seen[0], /^exception calling callback for <Future at #\d+ state=finished returned number>$/);
 * ```
 */
export function setLogger(logger: Logger | undefined): Logger {
  if (logger !== undefined && typeof logger !== "function") {
    throw new TypeError(`Cannot set the logger: logger must be a function or undefined, got ${typeof logger}`);
  }
  const previous = current;
  current = logger ?? defaultLogger;
  return previous;
}

/** Reports a swallowed error through the current logger; a logger that throws is itself ignored. */
export function log(message: string, error: unknown): void {
  try {
    current(message, error);
  } catch {
    // A broken logger must not turn a swallowed error into a propagated one.
  }
}

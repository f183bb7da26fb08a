// The checks of the pool's arguments (R9): each bad value gets a TypeError or RangeError that names it.

import { checkTimeout } from "./_clock.ts";
import type { MapOptions } from "./map.ts";

/** The task module's URL as a string; a TypeError unless `module` is a URL or an absolute URL string. */
export function checkModule(module: unknown): string {
  if (module instanceof URL) return module.href;
  if (typeof module === "string") {
    try {
      return new URL(module).href;
    } catch {
      throw new TypeError(
        `Cannot create the pool: module must be an absolute URL such as new URL("./tasks.ts", import.meta.url), got ${
          JSON.stringify(module)
        }`,
      );
    }
  }
  throw new TypeError(`Cannot create the pool: module must be a URL or a URL string, got ${typeof module}`);
}

/** `value`, unless it is given and not a positive integer: a TypeError (not a number) or a RangeError. */
export function checkPositiveInteger(value: unknown, what: string, nonPositive: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number") throw new TypeError(`${what} must be an integer, got ${typeof value}`);
  if (value <= 0) throw new RangeError(nonPositive);
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} must be a positive integer, got ${value}`);
  return value;
}

/** The chunk size, timeout and signal of `map()`/`starmap()` options, checked. */
export function checkMapOptions(
  options: MapOptions | undefined,
  method: "map" | "starmap" = "map",
): { chunksize: number; timeout: number | undefined; signal: AbortSignal | undefined } {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(`Cannot ${method}: options must be an object, got ${describeValue(options)}`);
  }
  // Python's map(fn, xs, ys) zips several iterables; here a second one would pass for options and be ignored.
  if (options !== undefined && typeof (options as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function") {
    throw new TypeError(
      `Cannot ${method}: options must be an object, got an iterable (${
        describeValue(options)
      }); ${method}() takes one iterable: for several arguments per call, starmap() takes an iterable of argument lists`,
    );
  }
  const chunksize = options?.chunksize ?? 1;
  if (typeof chunksize !== "number") throw new TypeError(`chunksize must be an integer, got ${typeof chunksize}`);
  if (!Number.isSafeInteger(chunksize) || chunksize < 1) throw new RangeError("chunksize must be >= 1.");
  const timeout = checkTimeout(options?.timeout, "timeout", "map");
  return { chunksize, timeout, signal: checkSignal(options?.signal, method) };
}

/** `signal`, unless it is given and not an AbortSignal: a TypeError naming it ("Cannot `action`: signal …"). */
export function checkSignal(signal: unknown, action: string): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(`Cannot ${action}: signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  return signal;
}

/** A TypeError saying `requirement` unless `value` is iterable. */
export function checkIterable(value: unknown, requirement: string): void {
  if (
    value === null || value === undefined ||
    typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(`${requirement}, got ${describeValue(value)}`);
  }
}

/**
 * What a bad argument was, for an error message, without calling anything on it (it may be a null-prototype
 * object, or have a throwing `toString`).
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return Object.prototype.toString.call(value).slice(8, -1);
}

/** A TypeError unless `fn` is a function or a name. */
export function checkTaskFunction(fn: unknown): void {
  if (typeof fn !== "function" && typeof fn !== "string") {
    throw new TypeError(`Cannot submit: fn must be an exported function or its name, got ${typeof fn}`);
  }
}

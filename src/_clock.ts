// Time in one place: the monotonic clock, timeout validation, and timers that survive delays above 2^31-1 ms.

/** The largest delay a timer accepts; above it Node, Deno and Bun all fire after about 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Milliseconds from an arbitrary origin, monotonic. */
export function now(): number {
  return performance.now();
}

/**
 * Validates a timeout in milliseconds as the rule book's R9.3 says: `undefined` or `Infinity` (or anything at or
 * above `Number.MAX_SAFE_INTEGER`) means "wait forever" and returns `undefined`; a negative value means "check
 * once, now" and returns 0; NaN is a RangeError and a non-number a TypeError.
 */
export function checkTimeout(ms: unknown, what = "timeout", action = "wait"): number | undefined {
  if (ms === undefined || ms === null) return undefined;
  if (typeof ms !== "number") {
    throw new TypeError(`Cannot ${action}: ${what} must be a number of milliseconds, got ${typeof ms}`);
  }
  if (Number.isNaN(ms)) throw new RangeError(`Cannot ${action}: ${what} must not be NaN`);
  if (ms >= Number.MAX_SAFE_INTEGER) return undefined;
  return ms < 0 ? 0 : ms;
}

/** Cancels a timer made by {@linkcode startTimer}. */
export type StopTimer = () => void;

/**
 * Calls `fn` once after `ms` milliseconds, splitting delays above {@linkcode MAX_TIMER_MS} into several timers.
 * Returns a function that cancels it. The timer keeps the event loop alive, as a pending wait should.
 */
export function startTimer(fn: () => void, ms: number): StopTimer {
  let id: ReturnType<typeof setTimeout> | undefined;
  const deadline = now() + ms;
  const arm = (left: number) => {
    id = setTimeout(() => {
      const rest = deadline - now();
      if (rest > 1 && left > MAX_TIMER_MS) arm(rest);
      else fn();
    }, Math.min(Math.max(left, 0), MAX_TIMER_MS));
  };
  arm(ms);
  return () => clearTimeout(id);
}

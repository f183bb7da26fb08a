// The benchmark's task module: one tiny export, so that what is measured is the pool and its transport.

/** The benchmark's whole workload: one addition. */
export function inc(x: number): number {
  return x + 1;
}

/** Holds the CPU for `ms` milliseconds (a CPU-bound task of a known length), then returns `ms`. */
export function spin(ms: number): number {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
  return ms;
}

/** Throws a RangeError naming `x`: a failing task. */
export function fail(x: number): never {
  throw new RangeError(`task ${x} failed`);
}

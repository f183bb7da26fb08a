// The benchmark's task module: one tiny export, so that what is measured is the pool and its transport.

/** The benchmark's whole workload: one addition. */
export function inc(x: number): number {
  return x + 1;
}

// Scenario: single-task latency. One task in flight at a time, on a pool of 2 workers: procpool's submit-and-await
// against raw ping-pong on the same transport, both in this one process, each round running procpool, raw, raw,
// procpool (half the round's trips each time), so that drifts of the machine's state meet both alike.
//
// Each trip is timed; a round's figures are its median trip and its mean trip. The median is the latency: on this
// kind of machine about one trip in a thousand stalls for 1–15 ms (the core is lent to another thread), for both
// alike, and those few stalls make up a fifth of the mean. `npm run bench` runs this scenario pinned to one core
// where it can (taskset): on a virtual machine, whether a worker shares the parent's core or wakes a halted one
// (~60 µs more) is settled at random, per thread, and would otherwise decide the ratio. Prints one line.

import { ProcessPoolExecutor } from "../../mod.ts";
import { choice, emit, integer, parseArgs, TASKS_URL, warmUp } from "../_common.ts";
import { RawPool } from "../raw/pool.ts";
import { inc } from "../tasks.ts";

const args = parseArgs();
const backend = choice(args, "backend", ["process", "worker"] as const);
const rounds = integer(args, "rounds", 5);
const trips = integer(args, "trips", 2_000); // per implementation and round

const pool = new ProcessPoolExecutor({ module: TASKS_URL, maxWorkers: 2, backend });
const raw = new RawPool(backend, 2, { module: TASKS_URL, fn: "inc" });
const impls = {
  procpool: (x: number): Promise<number> => pool.submit(inc, x).result(),
  raw: (x: number): Promise<number> => raw.call(x),
};
type Impl = keyof typeof impls;

// Microseconds of each of `n` sequential round trips.
async function round(impl: Impl, n: number): Promise<number[]> {
  const call = impls[impl];
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const result = await call(i);
    times.push((performance.now() - start) * 1000);
    if (result !== i + 1) throw new Error(`${impl}: wrong result for ${i}`);
  }
  return times;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(p * (sorted.length - 1))];
}

// Warm both up together: a pool left idle while the other warms up would start its first round cold again.
await warmUp(async () => {
  await round("procpool", trips / 4);
  await round("raw", trips / 4);
});
const p50: Record<Impl, number[]> = { procpool: [], raw: [] };
const mean: Record<Impl, number[]> = { procpool: [], raw: [] };
for (let r = 0; r < rounds; r++) {
  // procpool, raw, raw, procpool: each takes the first and the last place once per round.
  const times: Record<Impl, number[]> = { procpool: [], raw: [] };
  for (const impl of ["procpool", "raw", "raw", "procpool"] as const) times[impl].push(...await round(impl, trips / 2));
  for (const impl of ["procpool", "raw"] as const) {
    p50[impl].push(percentile(times[impl], 0.5));
    mean[impl].push(times[impl].reduce((a, b) => a + b, 0) / times[impl].length);
  }
}
await pool.shutdown();
await raw.stop();
emit({ scenario: "latency", backend, unit: "µs/op", trips, p50, mean });

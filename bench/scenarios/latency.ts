// Scenario: single-task latency. One task in flight at a time, 2,000 sequential round trips per round, on a
// pool of 2 workers; procpool's submit-and-await against raw ping-pong on the same transport. Prints one line.

import { ProcessPoolExecutor } from "../../mod.ts";
import { choice, emit, integer, parseArgs, TASKS_URL, timeRounds } from "../_common.ts";
import { RawPool } from "../raw/pool.ts";
import { inc } from "../tasks.ts";

const args = parseArgs();
const impl = choice(args, "impl", ["procpool", "raw"] as const);
const backend = choice(args, "backend", ["process", "worker"] as const);
const rounds = integer(args, "rounds", 5);
const trips = integer(args, "trips", 2_000);

let call: (x: number) => Promise<number>;
let stop: () => Promise<void>;
if (impl === "procpool") {
  const pool = new ProcessPoolExecutor({ module: TASKS_URL, maxWorkers: 2, backend });
  call = (x) => pool.submit(inc, x).result();
  stop = () => pool.shutdown();
} else {
  const pool = new RawPool(backend, 2, { module: TASKS_URL, fn: "inc" });
  call = (x) => pool.call(x);
  stop = () => pool.stop();
}
const samples = await timeRounds(rounds, async () => {
  for (let i = 0; i < trips; i++) {
    if ((await call(i)) !== i + 1) throw new Error(`wrong result for ${i}`);
  }
});
await stop();
// Mean microseconds per round trip in each round.
emit({ scenario: "latency", impl, backend, unit: "µs/op", trips, samples: samples.map((ms) => (ms * 1000) / trips) });

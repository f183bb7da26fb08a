// Scenario: map throughput. 200,000 items through procpool's map() on 2 workers with the given chunksize,
// consumed in order. Prints one JSON line.

import { ProcessPoolExecutor } from "../../mod.ts";
import { choice, emit, integer, parseArgs, range, TASKS_URL, timeRounds } from "../_common.ts";
import { inc } from "../tasks.ts";

const args = parseArgs();
const backend = choice(args, "backend", ["process", "worker"] as const);
const rounds = integer(args, "rounds", 5);
const chunksize = integer(args, "chunksize", 1);
const items = integer(args, "items", 200_000);
const all = range(items);
const warmUpItems = all.slice(0, Math.min(items, 20_000));

const pool = new ProcessPoolExecutor({ module: TASKS_URL, maxWorkers: 2, backend });
const samples = await timeRounds(rounds, async (warmUp) => {
  const input = warmUp ? warmUpItems : all;
  let i = 0;
  for await (const value of pool.map(inc, input, { chunksize })) {
    if (value !== i + 1) throw new Error(`item ${i} is ${value}`);
    i++;
  }
  if (i !== input.length) throw new Error(`map yielded ${i} of ${input.length} items`);
});
await pool.shutdown();
emit({
  scenario: `map${chunksize}`,
  impl: "procpool",
  backend,
  unit: "items/s",
  chunksize,
  items,
  samples: samples.map((ms) => items / (ms / 1000)),
});

// Scenario: submit throughput. 20,000 tiny tasks on 2 workers, all submitted, then all awaited; procpool and the
// raw transport (one message per task, all in flight, round-robin), in this one process, their rounds interleaved
// (the order reversed every other round), so that the drift of a busy 2-core machine meets both alike. Prints
// one JSON line with the samples of each.
//
// procpool awaits its futures' `result()` promises, as Python's `[f.result() for f in futures]` does and as the
// peers' `run()` promises are awaited; `procpool-then` hands the futures themselves to `Promise.all`, which adopts
// each as a thenable: a path that costs V8 about 1 µs per future by itself (its thenable jobs).

import { ProcessPoolExecutor } from "../../mod.ts";
import { checkResults, choice, emit, integer, parseArgs, range, TASKS_URL, warmUp } from "../_common.ts";
import { RawPool } from "../raw/pool.ts";
import { inc } from "../tasks.ts";

const args = parseArgs();
const backend = choice(args, "backend", ["process", "worker"] as const);
const rounds = integer(args, "rounds", 5);
const tasks = integer(args, "tasks", 20_000);
const workers = 2;
const xs = range(tasks);

const pool = new ProcessPoolExecutor({ module: TASKS_URL, maxWorkers: workers, backend });
const raw = new RawPool(backend, workers, { module: TASKS_URL, fn: "inc" });
const impls = {
  procpool: async () => {
    const futures = xs.map((x) => pool.submit(inc, x));
    checkResults(await Promise.all(futures.map((f) => f.result())), tasks);
  },
  "procpool-then": async () => {
    const futures = xs.map((x) => pool.submit(inc, x));
    checkResults(await Promise.all(futures), tasks);
  },
  raw: async () => checkResults(await raw.runAll(xs), tasks),
};
type Impl = keyof typeof impls;
const order = Object.keys(impls) as Impl[];

await warmUp(async () => {
  for (const impl of order) await impls[impl]();
});
const samples: Record<Impl, number[]> = { procpool: [], "procpool-then": [], raw: [] };
for (let r = 0; r < rounds; r++) {
  for (const impl of r % 2 === 0 ? order : [...order].reverse()) {
    const start = performance.now();
    await impls[impl]();
    samples[impl].push(tasks / ((performance.now() - start) / 1000));
  }
}
await pool.shutdown();
await raw.stop();
emit({ scenario: "submit", backend, unit: "tasks/s", tasks, samples });

// Scenario: submit throughput. 20,000 tiny tasks on 2 workers, all submitted, then all awaited; procpool or the
// raw transport (one message per task, all in flight, round-robin). Prints one JSON line.
//
// procpool awaits its futures' `result()` promises, as Python's `[f.result() for f in futures]` does and as the
// peers' `run()` promises are awaited; `procpool-then` hands the futures themselves to `Promise.all`, which adopts
// each as a thenable: a path that costs V8 about 1 µs per future by itself (its thenable jobs).

import { ProcessPoolExecutor } from "../../mod.ts";
import { checkResults, choice, emit, integer, parseArgs, range, TASKS_URL, timeRounds } from "../_common.ts";
import { RawPool } from "../raw/pool.ts";
import { inc } from "../tasks.ts";

const args = parseArgs();
const impl = choice(args, "impl", ["procpool", "procpool-then", "raw"] as const);
const backend = choice(args, "backend", ["process", "worker"] as const);
const rounds = integer(args, "rounds", 5);
const tasks = integer(args, "tasks", 20_000);
const workers = 2;
const xs = range(tasks);

let samples: number[];
if (impl !== "raw") {
  const pool = new ProcessPoolExecutor({ module: TASKS_URL, maxWorkers: workers, backend });
  samples = await timeRounds(rounds, async () => {
    const futures = xs.map((x) => pool.submit(inc, x));
    checkResults(await Promise.all(impl === "procpool" ? futures.map((f) => f.result()) : futures), tasks);
  });
  await pool.shutdown();
} else {
  const pool = new RawPool(backend, workers, { module: TASKS_URL, fn: "inc" });
  samples = await timeRounds(rounds, async () => checkResults(await pool.runAll(xs), tasks));
  await pool.stop();
}
emit({ scenario: "submit", impl, backend, unit: "tasks/s", tasks, samples: samples.map((ms) => tasks / (ms / 1000)) });

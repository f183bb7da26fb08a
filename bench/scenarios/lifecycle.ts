// Scenario: one pool's life, in a fresh process. Startup: from `new ProcessPoolExecutor` to the first result,
// against spawning one bare worker that loads the same task module the same way and answers one message
// (the pool, too, starts one worker for its first task).
// Memory: after 100,000 tasks on 2 workers (batches of 10,000 in flight). On a process backend, each child's
// VmRSS. On a thread backend, this process's RSS growth per worker, less the growth of this (the parent's) JS
// heap, which belongs to the caller's futures and promises rather than to the workers; that growth is reported
// on its own. Prints one JSON line.

import process from "node:process";
import { ProcessPoolExecutor } from "../../mod.ts";
import {
  checkResults,
  choice,
  collectGarbage,
  emit,
  integer,
  parseArgs,
  range,
  rssKiB,
  sleep,
  TASKS_URL,
  workerChildPids,
} from "../_common.ts";
import { RawPool } from "../raw/pool.ts";
import { inc } from "../tasks.ts";

const args = parseArgs();
const impl = choice(args, "impl", ["procpool", "raw"] as const);
const backend = choice(args, "backend", ["process", "worker"] as const);
const tasks = integer(args, "tasks", 100_000);
const batch = 10_000;
const workers = 2;
const xs = range(batch);

collectGarbage();
const rssBefore = rssKiB();
const heapBefore = process.memoryUsage().heapTotal;

let startupMs: number;
let runBatch: () => Promise<number[]>;
let stop: () => Promise<void>;

if (impl === "procpool") {
  const start = performance.now();
  const pool = new ProcessPoolExecutor({ module: TASKS_URL, maxWorkers: workers, backend });
  const first = await pool.submit(inc, 41).result();
  startupMs = performance.now() - start;
  if (first !== 42) throw new Error(`first result ${first}`);
  runBatch = () => Promise.all(xs.map((x) => pool.submit(inc, x).result()));
  stop = () => pool.shutdown();
} else {
  // Like procpool: one worker answers the first task, a second one joins for the rest.
  const start = performance.now();
  const pool = new RawPool(backend, 1, { module: TASKS_URL, fn: "inc" });
  const first = await pool.call(41);
  startupMs = performance.now() - start;
  if (first !== 42) throw new Error(`first result ${first}`);
  pool.add();
  runBatch = () => pool.runAll(xs);
  stop = () => pool.stop();
}

for (let done = 0; done < tasks; done += batch) checkResults(await runBatch(), batch);
collectGarbage();
await sleep(100);
collectGarbage();

const parentHeapGrowthKiB = (process.memoryUsage().heapTotal - heapBefore) / 1024;
let perWorkerKiB: number[];
if (backend === "process") {
  const pids = workerChildPids();
  if (pids.length !== workers) throw new Error(`expected ${workers} worker processes, found ${pids.length}: ${pids}`);
  perWorkerKiB = pids.map((pid) => rssKiB(pid));
} else {
  perWorkerKiB = [(rssKiB() - rssBefore - parentHeapGrowthKiB) / workers];
}
await stop();
const memoryMiB = perWorkerKiB.reduce((a, b) => a + b, 0) / perWorkerKiB.length / 1024;
emit({
  scenario: "lifecycle",
  impl,
  backend,
  startupMs,
  memoryMiB,
  perWorkerKiB,
  rssBeforeKiB: rssBefore,
  parentHeapGrowthKiB,
  tasks,
});

// Scenario: one pool's life, in a fresh process. Startup: from `new ProcessPoolExecutor` to the first result,
// against spawning one bare worker that loads the same task module the same way and answers one message
// (the pool, too, starts one worker for its first task).
// Memory: after 100,000 tasks on 2 workers (batches of 10,000 in flight). On a process backend, each child's
// VmRSS. On a thread backend, what adding workers adds to this process's RSS: a second pool of 2 workers runs the
// same 100,000 tasks after the first, and the RSS growth over that second run, per worker, is the figure — the
// first run has already grown the parent's heap to what this workload needs, so that growth is not counted as the
// workers'. Prints one JSON line.

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

/** A pool of `workers` workers, started and through its first task. */
interface Started {
  readonly startupMs: number;
  runBatch(): Promise<number[]>;
  stop(): Promise<void>;
}

async function startPool(): Promise<Started> {
  const start = performance.now();
  if (impl === "procpool") {
    const pool = new ProcessPoolExecutor({ module: TASKS_URL, maxWorkers: workers, backend });
    const first = await pool.submit(inc, 41).result();
    const startupMs = performance.now() - start;
    if (first !== 42) throw new Error(`first result ${first}`);
    return {
      startupMs,
      runBatch: () => Promise.all(xs.map((x) => pool.submit(inc, x))),
      stop: () => pool.shutdown(),
    };
  }
  // Like procpool: one worker answers the first task, a second one joins for the rest.
  const pool = new RawPool(backend, 1, { module: TASKS_URL, fn: "inc" });
  const first = await pool.call(41);
  const startupMs = performance.now() - start;
  if (first !== 42) throw new Error(`first result ${first}`);
  pool.add();
  return { startupMs, runBatch: () => pool.runAll(xs), stop: () => pool.stop() };
}

async function runTasks(pool: Started): Promise<void> {
  for (let done = 0; done < tasks; done += batch) checkResults(await pool.runBatch(), batch);
  collectGarbage();
  await sleep(100);
  collectGarbage();
}

const pool = await startPool();
const startupMs = pool.startupMs;
await runTasks(pool);
const pools = [pool];
let perWorkerKiB: number[];
if (backend === "process") {
  const pids = workerChildPids();
  if (pids.length !== workers) throw new Error(`expected ${workers} worker processes, found ${pids.length}: ${pids}`);
  perWorkerKiB = pids.map((pid) => rssKiB(pid));
} else {
  const rssAfterFirst = rssKiB();
  const second = await startPool();
  pools.push(second);
  await runTasks(second);
  perWorkerKiB = [(rssKiB() - rssAfterFirst) / workers];
}
// Diagnostics: how much this (the parent's) JS heap grew over the whole run.
const parentHeapGrowthKiB = (process.memoryUsage().heapTotal - heapBefore) / 1024;
for (const p of pools) await p.stop();
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

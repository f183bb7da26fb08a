// Scenario: tasks of mixed durations on 2 workers, against the ideal schedule computed from their durations. The
// ideal is what CPython's shared call queue gives with no overhead at all: each task, in submission order, starts
// on whichever worker is free first. A pool that lets a task wait in one worker's queue while another worker idles
// falls behind it (R4.1). Two workloads: one 50 ms task per ten 1 ms tasks, and a heavy-tailed mix (Pareto
// durations, a fixed seed). Prints one JSON line: per workload, procpool's wall times and the ideal's.

import { ProcessPoolExecutor } from "../../mod.ts";
import { choice, emit, integer, parseArgs, TASKS_URL } from "../_common.ts";
import { spin } from "../tasks.ts";

const args = parseArgs();
const backend = choice(args, "backend", ["process", "worker"] as const);
const rounds = integer(args, "rounds", 5);
const workers = 2;

// One 50 ms task, then ten of 1 ms, twenty times over: 1.2 s of work.
const steps: number[] = [];
for (let i = 0; i < 20; i++) steps.push(50, ...Array<number>(10).fill(1));

// 200 durations from a Pareto distribution (shape 1.2, from 0.5 ms, capped at 80 ms), from a fixed seed.
const tail: number[] = [];
let seed = 12345;
for (let i = 0; i < 200; i++) {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  const u = (seed + 1) / (2 ** 31 + 1);
  tail.push(Math.min(80, 0.5 / u ** (1 / 1.2)));
}

// The ideal: list scheduling in submission order on `workers` machines, no overhead.
function ideal(durations: number[]): number {
  const free = Array<number>(workers).fill(0);
  for (const d of durations) {
    const i = free.indexOf(Math.min(...free));
    free[i] += d;
  }
  return Math.max(...free);
}

const pool = new ProcessPoolExecutor({ module: TASKS_URL, maxWorkers: workers, backend });
async function run(durations: number[]): Promise<number> {
  const start = performance.now();
  await Promise.all(durations.map((ms) => pool.submit(spin, ms).result()));
  return performance.now() - start;
}

await run(steps.slice(0, 22)); // warm-up: both workers up, the task module loaded
const samples: Record<string, number[]> = { steps: [], tail: [] };
for (let r = 0; r < rounds; r++) {
  samples.steps.push(await run(steps));
  samples.tail.push(await run(tail));
}
await pool.shutdown();
emit({
  scenario: "mixed",
  backend,
  unit: "ms",
  samples,
  ideal: { steps: ideal(steps), tail: ideal(tail) },
});

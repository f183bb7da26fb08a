// Soak: a million tasks through one pool, mixing successes, task errors, timed-out waits, cancels and workers
// recycled by maxTasksPerChild; every future must settle as it should. Prints a JSON line with the parent's RSS and
// JS heap (after a full GC) at every 100,000 tasks, for `npm run soak` to judge the growth.

import process from "node:process";
import { CancelledError, ProcessPoolExecutor, TimeoutError } from "../../mod.ts";
import { choice, collectGarbage, emit, integer, parseArgs, TASKS_URL } from "../_common.ts";
import { fail, inc } from "../tasks.ts";

const args = parseArgs();
const backend = choice(args, "backend", ["process", "worker"] as const);
const total = integer(args, "tasks", 1_000_000);
const BATCH = 10_000;
const REPORT_EVERY = 100_000;
const MiB = 1024 * 1024;

// Workers retire every 10,000 tasks: a hundred replacements in a million tasks. On a thread backend the parent's RSS
// holds the workers' heaps too, which grow over each worker's life; short lives keep that from hiding the parent's
// own growth (with 50,000 the marks swung by 20–60 MiB with the workers' ages; with 5,000, or 1,000,000 and no
// replacement at all, they stay flat once warm).
const maxTasksPerChild = integer(args, "maxTasksPerChild", 10_000);
const pool = new ProcessPoolExecutor({ module: TASKS_URL, maxWorkers: 2, backend, maxTasksPerChild });
const counts = { returned: 0, raised: 0, cancelled: 0, timedOut: 0 };
const marks: { tasks: number; rssMiB: number; heapMiB: number }[] = [];

// One batch: of every ten tasks, six return, one raises, one is cancelled at once (or has started), one is first
// polled with result(0) (which times out unless it is done), one is awaited through the future itself.
async function batch(base: number): Promise<void> {
  const waits: Promise<void>[] = [];
  for (let i = base; i < base + BATCH; i++) {
    const kind = i % 10;
    if (kind === 7) {
      waits.push(
        pool.submit(fail, i).result().then(
          () => Promise.reject(new Error(`task ${i} should have raised`)),
          (error) => {
            if (!(error instanceof RangeError)) throw error;
            counts.raised++;
          },
        ),
      );
      continue;
    }
    const future = pool.submit(inc, i);
    if (kind === 8 && future.cancel()) {
      waits.push(
        future.result().then(
          () => Promise.reject(new Error(`cancelled task ${i} returned`)),
          (error) => {
            if (!(error instanceof CancelledError)) throw error;
            counts.cancelled++;
          },
        ),
      );
      continue;
    }
    if (kind === 9) {
      waits.push(
        future.result(0).then(
          (value) => check(i, value),
          async (error) => {
            if (!(error instanceof TimeoutError)) throw error;
            counts.timedOut++;
            check(i, await future.result());
          },
        ),
      );
      continue;
    }
    waits.push((kind === 6 ? Promise.resolve(future) : future.result()).then((value) => check(i, value)));
  }
  await Promise.all(waits);
}

function check(i: number, value: number): void {
  if (value !== i + 1) throw new Error(`task ${i} returned ${value}`);
  counts.returned++;
}

for (let done = 0; done < total; done += BATCH) {
  await batch(done);
  if ((done + BATCH) % REPORT_EVERY === 0) {
    collectGarbage();
    const memory = process.memoryUsage();
    marks.push({ tasks: done + BATCH, rssMiB: memory.rss / MiB, heapMiB: memory.heapUsed / MiB });
  }
}
await pool.shutdown();
emit({ scenario: "soak", backend, tasks: total, counts, marks });

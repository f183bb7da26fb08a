// `npm run soak`: a million tasks through every runtime × backend (bench/scenarios/soak.ts), one after another;
// prints the parent's RSS and JS heap at every 100,000 tasks and judges the growth from 200k to the end (after
// warm-up) against the 10 MiB bound. Exits non-zero when a run fails or grows past it.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { BACKENDS, RUNTIMES } from "./report.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
const BOUND_MIB = 10;
const tasks = process.env.SOAK_TASKS ?? "1000000";

function command(runtime: (typeof RUNTIMES)[number], args: string[]): [string, string[]] {
  const script = join("bench", "scenarios", "soak.ts");
  if (runtime === "deno") return [join(BIN, "deno"), ["run", "-A", "--v8-flags=--expose-gc", script, ...args]];
  if (runtime === "bun") return [join(BIN, "bun"), [script, ...args]];
  return [process.execPath, ["--import", "tsx", "--expose-gc", script, ...args]];
}

interface Mark {
  tasks: number;
  rssMiB: number;
  heapMiB: number;
}

let failed = false;
const fixed = (n: number) => n.toFixed(1).padStart(7);
for (const runtime of RUNTIMES) {
  for (const backend of BACKENDS) {
    const [cmd, args] = command(runtime, [`backend=${backend}`, `tasks=${tasks}`]);
    const started = performance.now();
    const run = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const seconds = (performance.now() - started) / 1000;
    const line = run.stdout.trim().split("\n").pop() ?? "";
    let result: { counts: Record<string, number>; marks: Mark[] } | undefined;
    try {
      result = JSON.parse(line);
    } catch {
      result = undefined;
    }
    if (run.status !== 0 || result === undefined) {
      failed = true;
      console.log(`${runtime} ${backend}: FAILED (exit ${run.status})\n${run.stderr.slice(-2000)}`);
      continue;
    }
    const marks = result.marks;
    const from = marks.find((m) => m.tasks === 200_000) ?? marks[0];
    const to = marks[marks.length - 1];
    const rssGrowth = to.rssMiB - from.rssMiB;
    const heapGrowth = to.heapMiB - from.heapMiB;
    const ok = heapGrowth < BOUND_MIB && rssGrowth < BOUND_MIB;
    if (!ok) failed = true;
    console.log(
      `${runtime} ${backend}: ${tasks} tasks in ${seconds.toFixed(0)} s, ${JSON.stringify(result.counts)}; ` +
        `growth ${from.tasks / 1000}k→${to.tasks / 1000}k: RSS ${rssGrowth.toFixed(1)} MiB, heap ${
          heapGrowth.toFixed(1)
        } MiB ${ok ? "PASS" : "MISS"} (< ${BOUND_MIB} MiB)`,
    );
    console.log(`  tasks   ${marks.map((m) => `${m.tasks / 1000}k`.padStart(7)).join(" ")}`);
    console.log(`  RSS     ${marks.map((m) => fixed(m.rssMiB)).join(" ")}  MiB`);
    console.log(`  heap    ${marks.map((m) => fixed(m.heapMiB)).join(" ")}  MiB`);
  }
}
process.exit(failed ? 1 : 0);

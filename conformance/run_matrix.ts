// `npm run conformance`: runs the property-based suite on every runtime and backend, then prints the matrix —
// rule group × runtime × backend — with runs and failures, and exits non-zero on any failure.
//
//   node --import tsx conformance/run_matrix.ts [--runtimes=node,deno,bun] [--node=PATH] [--deno=PATH]
//                                               [--bun=PATH] [--jobs=N] [--timeout=SECONDS]
//
// FC_SEED, FC_NUM_RUNS, FC_TIME_MS, FC_NATS_TIME_MS and FC_SHRINK_MS pass through to every runner (see _config.ts); one seed is
// chosen for the whole matrix when FC_SEED is not set, and printed.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { PropertyReport } from "./properties/rule_groups.ts";

type Runtime = "node" | "deno" | "bun";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GROUPS = ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8"] as const;
const GROUP_NAMES: Record<string, string> = {
  R1: "R1 initializer",
  R2: "R2 task errors",
  R3: "R3 done-callbacks",
  R4: "R4 future states",
  R5: "R5 map/starmap",
  R6: "R6 wait/asCompleted",
  R7: "R7 shutdown/lifetime",
  R8: "R8 worker death",
};
// "nats": workers run by two agents through a real nats-server (property_nats.test.ts; needs nats-server).
const BACKENDS: Record<Runtime, readonly string[]> = {
  node: ["process", "worker", "nats"],
  deno: ["worker", "process", "nats"],
  bun: ["worker", "process", "nats"],
};

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.slice(2).find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

// A runtime binary: the one asked for, else the project's pinned copy in node_modules/.bin, else the PATH's.
function binary(runtime: Runtime): string {
  const given = option(runtime);
  if (given !== undefined) return given;
  if (runtime === "node") return process.execPath;
  const local = join(ROOT, "node_modules", ".bin", runtime);
  return existsSync(local) ? local : runtime;
}

function command(runtime: Runtime, files: string[]): [string, string[]] {
  const bin = binary(runtime);
  switch (runtime) {
    case "node":
      // --test-force-exit: a pool that a failed property could not shut down must not keep the runner waiting.
      return [bin, [
        "--import",
        "tsx",
        "--test",
        "--test-force-exit",
        "--test-concurrency=1",
        "--test-reporter=spec",
        ...files,
      ]];
    case "deno":
      return [bin, ["test", "-A", "--no-check", ...files]];
    case "bun":
      return [bin, ["test", "--timeout", "900000", ...files]];
  }
}

interface RunnerResult {
  readonly runtime: Runtime;
  readonly code: number | null;
  readonly output: string;
  readonly reports: PropertyReport[];
  readonly ms: number;
}

function runRuntime(runtime: Runtime, seed: string, dir: string, limitMs: number): Promise<RunnerResult> {
  const files = readdirSync(join(ROOT, "conformance")).filter((f) => /^property_.*\.test\.ts$/.test(f)).sort()
    .map((f) => join("conformance", f));
  const reportFile = join(dir, `${runtime}.jsonl`);
  writeFileSync(reportFile, "");
  const [bin, args] = command(runtime, files);
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: string[] = [];
    const child = spawn(bin, args, {
      cwd: ROOT,
      env: { ...process.env, FC_SEED: seed, PB_REPORT: reportFile, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (d) => chunks.push(String(d)));
    child.stderr.on("data", (d) => chunks.push(String(d)));
    const done = (code: number | null) => {
      const reports = readFileSync(reportFile, "utf8").split("\n").filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as PropertyReport);
      process.stdout.write(`  ${runtime} finished in ${((Date.now() - started) / 1000).toFixed(0)}s (exit ${code})\n`);
      resolve({ runtime, code, output: chunks.join(""), reports, ms: Date.now() - started });
    };
    child.on("error", (error) => {
      chunks.push(`cannot start ${bin}: ${error.message}\n`);
      done(null);
    });
    // A runner that outlives every budget is stopped and reported (its properties show as missing).
    const watchdog = setTimeout(() => {
      chunks.push(`\n${runtime}: stopped after ${limitMs / 1000}s without finishing\n`);
      child.kill("SIGKILL");
    }, limitMs);
    child.on("close", (code) => {
      clearTimeout(watchdog);
      done(code);
    });
  });
}

// The failure messages the properties threw: from "<group> failed on" to the "Replay:" line.
function failureBlocks(output: string): string[] {
  const escape = String.fromCharCode(27);
  const lines = output.split("\n").map((l) =>
    l.split(escape).map((part, i) => i === 0 ? part : part.replace(/^\[[0-9;]*m/, "")).join("")
  );
  const blocks: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/R\d failed on \w+\/\w+ after/.test(lines[i])) continue;
    const block: string[] = [];
    for (let j = i; j < lines.length && j < i + 60; j++) {
      block.push(lines[j]);
      if (/Replay: FC_SEED=/.test(lines[j])) break;
    }
    blocks.push(block.join("\n"));
  }
  return [...new Set(blocks)];
}

async function main(): Promise<void> {
  const runtimes = (option("runtimes") ?? "node,deno,bun").split(",").map((s) => s.trim()) as Runtime[];
  for (const r of runtimes) if (!(r in BACKENDS)) throw new TypeError(`unknown runtime ${r}`);
  const jobs = Math.max(1, Number(option("jobs") ?? 2));
  const limitMs = Number(option("timeout") ?? 1_200) * 1_000;
  const seed = process.env.FC_SEED ?? String((Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0);
  const dir = mkdtempSync(join(tmpdir(), "procpool-matrix-"));
  const started = Date.now();
  process.stdout.write(
    `procpool conformance: ${runtimes.join(", ")} with FC_SEED=${seed}` +
      (process.env.FC_NUM_RUNS ? `, FC_NUM_RUNS=${process.env.FC_NUM_RUNS}` : "") + `, ${jobs} at a time\n`,
  );

  // Node, the slowest, starts first; the others share the remaining slots.
  const queue = [...runtimes].sort((a, b) => (a === "node" ? -1 : b === "node" ? 1 : 0));
  const results: RunnerResult[] = [];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      results.push(await runRuntime(next, seed, dir, limitMs));
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
  rmSync(dir, { recursive: true, force: true });

  // The matrix.
  const columns = runtimes.flatMap((r) => BACKENDS[r].map((b) => ({ runtime: r, backend: b })));
  const byKey = new Map<string, PropertyReport>();
  for (const result of results) for (const r of result.reports) byKey.set(`${r.group}/${r.runtime}/${r.backend}`, r);
  const width = 13;
  const header = "rule group".padEnd(22) + columns.map((c) => `${c.runtime}/${c.backend}`.padStart(width)).join("");
  const rows = GROUPS.map((g) => {
    const cells = columns.map((c) => {
      const r = byKey.get(`${g}/${c.runtime}/${c.backend}`);
      const cell = r === undefined ? "—" : r.failed ? `${r.runs} ✗ ${r.rule ?? ""}`.trim() : `${r.runs} ✓`;
      return cell.padStart(width);
    });
    return GROUP_NAMES[g].padEnd(22) + cells.join("");
  });
  let failures = 0;
  const missing: string[] = [];
  for (const g of GROUPS) {
    for (const c of columns) {
      const r = byKey.get(`${g}/${c.runtime}/${c.backend}`);
      if (r === undefined) missing.push(`${g} ${c.runtime}/${c.backend}`);
      else if (r.failed) failures++;
    }
  }
  const runs = [...byKey.values()].reduce((sum, r) => sum + r.runs, 0);

  for (const result of results) {
    const blocks = failureBlocks(result.output);
    const broken = result.code !== 0 || result.reports.some((r) => r.failed);
    if (!broken) continue;
    process.stdout.write(`\n──── ${result.runtime}: exit ${result.code}\n`);
    if (blocks.length > 0) process.stdout.write(`${blocks.join("\n\n")}\n`);
    else process.stdout.write(`${result.output.split("\n").slice(-60).join("\n")}\n`);
  }

  process.stdout.write(`\n${header}\n${rows.join("\n")}\n\n`);
  process.stdout.write(
    `runs: ${runs}, failures: ${failures}, missing: ${missing.length}` +
      `; total time ${((Date.now() - started) / 1000).toFixed(0)}s; FC_SEED=${seed}\n`,
  );
  if (missing.length > 0) process.stdout.write(`no report from: ${missing.join(", ")}\n`);
  const runnerFailed = results.some((r) => r.code !== 0);
  if (failures > 0 || missing.length > 0 || runnerFailed) {
    process.stdout.write(`replay with: FC_SEED=${seed} npm run conformance -- --runtimes=<runtime>\n`);
    process.exitCode = 1;
  }
}

await main();

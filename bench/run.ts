// `npm run bench`: runs every scenario in a fresh child process of its runtime, one at a time, then prints the
// machine, the table (medians over the rounds, ratios, targets) and writes results.json and chart.svg.
// BENCH_ROUNDS sets the rounds (default 7); BENCH_ONLY runs a part of it (see below).

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  BACKENDS,
  buildRows,
  formatTable,
  measurementKey,
  type Measurements,
  NATS_BACKEND,
  PEERS,
  renderChart,
  RUNTIMES,
  VALUE_CASES,
} from "./report.ts";
import { median } from "./stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = join(ROOT, "bench", "results");
const DENO = join(ROOT, "node_modules", ".bin", "deno");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const JOB_TIMEOUT_MS = 120_000;

type Runtime = (typeof RUNTIMES)[number];

/** One child process to run: its command line and how to file its JSON line under measurement keys. */
interface Job {
  readonly label: string;
  readonly command: string;
  readonly args: string[];
  readonly file: (line: Record<string, unknown>) => Record<string, number[]>;
  /** How long the job may run, when not JOB_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

function runtimeCommand(runtime: Runtime, script: string, args: string[], exposeGc = false): [string, string[]] {
  const path = join("bench", "scenarios", script);
  switch (runtime) {
    case "node":
      return [process.execPath, ["--import", "tsx", ...(exposeGc ? ["--expose-gc"] : []), path, ...args]];
    case "deno":
      return [DENO, ["run", "-A", ...(exposeGc ? ["--v8-flags=--expose-gc"] : []), path, ...args]];
    case "bun":
      return [BUN, [path, ...args]];
  }
}

const TASKSET = "/usr/bin/taskset";

// The command run on core 0 alone (with every process and thread it starts), where taskset is installed.
function pinned([command, args]: [string, string[]]): [string, string[]] {
  return existsSync(TASKSET) ? [TASKSET, ["-c", "0", command, ...args]] : [command, args];
}

function samplesJob(
  runtime: Runtime,
  script: string,
  scenario: string,
  impl: string,
  backend: string,
  args: string[],
): Job {
  const [command, argv] = runtimeCommand(runtime, script, [...args, `rounds=${ROUNDS}`]);
  return {
    label: `${runtime} ${backend} ${scenario} ${impl}`,
    command,
    args: argv,
    file: (line) => ({ [measurementKey(runtime, backend, scenario, impl)]: line.samples as number[] }),
  };
}

function plan(): Job[] {
  const jobs: Job[] = [];
  for (const runtime of RUNTIMES) {
    for (const backend of BACKENDS) {
      // procpool (both ways of awaiting) and the raw transport in one process, rounds interleaved.
      const [submitCommand, submitArgs] = runtimeCommand(runtime, "submit.ts", [
        `backend=${backend}`,
        `rounds=${ROUNDS}`,
      ]);
      jobs.push({
        label: `${runtime} ${backend} submit procpool+raw`,
        command: submitCommand,
        args: submitArgs,
        file: (line) => {
          const samples = (line.samples ?? {}) as Record<string, number[]>;
          return Object.fromEntries(
            ["procpool", "procpool-then", "raw"].map((impl) => [
              measurementKey(runtime, backend, "submit", impl),
              samples[impl],
            ]),
          );
        },
      });
      if (runtime === "node" && backend === "worker") {
        for (const peer of PEERS) jobs.push(samplesJob(runtime, "peers.ts", "submit", peer, backend, [`impl=${peer}`]));
      }
      for (const chunksize of [1, 1000]) {
        jobs.push(
          samplesJob(runtime, "map.ts", `map${chunksize}`, "procpool", backend, [
            `backend=${backend}`,
            `chunksize=${chunksize}`,
          ]),
        );
      }
      // Latency: both in one process, rounds interleaved, pinned to one core where taskset exists (see the
      // scenario); three times the rounds, of half the trips, as short round trips are noisy.
      const [latencyCommand, latencyArgs] = pinned(
        runtimeCommand(runtime, "latency.ts", [`backend=${backend}`, `rounds=${3 * ROUNDS}`, "trips=1000"]),
      );
      jobs.push({
        label: `${runtime} ${backend} latency procpool+raw${latencyCommand === TASKSET ? " (one core)" : ""}`,
        command: latencyCommand,
        args: latencyArgs,
        file: (line) => {
          const p50 = (line.p50 ?? {}) as Record<string, number[]>;
          const mean = (line.mean ?? {}) as Record<string, number[]>;
          return {
            [measurementKey(runtime, backend, "latency", "procpool")]: p50.procpool,
            [measurementKey(runtime, backend, "latency", "raw")]: p50.raw,
            [measurementKey(runtime, backend, "latencyMean", "procpool")]: mean.procpool,
            [measurementKey(runtime, backend, "latencyMean", "raw")]: mean.raw,
          };
        },
      });
      // Mixed durations against the ideal schedule of the same durations (computed, so it has no spread).
      const [mixedCommand, mixedArgs] = runtimeCommand(runtime, "mixed.ts", [`backend=${backend}`, `rounds=${ROUNDS}`]);
      jobs.push({
        label: `${runtime} ${backend} mixed durations`,
        command: mixedCommand,
        args: mixedArgs,
        file: (line) => {
          const samples = (line.samples ?? {}) as Record<string, number[]>;
          const ideal = (line.ideal ?? {}) as Record<string, number>;
          return {
            [measurementKey(runtime, backend, "mixedSteps", "procpool")]: samples.steps,
            [measurementKey(runtime, backend, "mixedSteps", "ideal")]: [ideal.steps],
            [measurementKey(runtime, backend, "mixedTail", "procpool")]: samples.tail,
            [measurementKey(runtime, backend, "mixedTail", "ideal")]: [ideal.tail],
          };
        },
      });
      // Big values: procpool and the raw transport in one process, rounds interleaved; then the peak RSS.
      const [valuesCommand, valuesArgs] = runtimeCommand(runtime, "values.ts", [
        `backend=${backend}`,
        `rounds=${Math.min(ROUNDS, 3)}`,
      ]);
      jobs.push({
        label: `${runtime} ${backend} big values procpool+raw`,
        command: valuesCommand,
        args: valuesArgs,
        // Deno's threads clone a 64 MiB Uint8Array in ~30 s: the raw baseline of that value alone takes minutes.
        timeoutMs: 400_000,
        file: (line) => fileValues(runtime, backend, (line.samples ?? {}) as Record<string, number[]>),
      });
      const [rssCommand, rssArgs] = runtimeCommand(runtime, "values.ts", [`backend=${backend}`, "rss=1"], true);
      jobs.push({
        label: `${runtime} ${backend} big value peak RSS`,
        command: rssCommand,
        args: rssArgs,
        file: (line) => ({ [measurementKey(runtime, backend, "valueRss", "procpool")]: [line.aboveIdle as number] }),
      });
      // Startup and memory: one fresh process per round, procpool and bare alternating.
      for (let round = 1; round <= ROUNDS; round++) {
        for (const impl of ["procpool", "raw"]) {
          const [command, args] = runtimeCommand(runtime, "lifecycle.ts", [`impl=${impl}`, `backend=${backend}`], true);
          jobs.push({
            label: `${runtime} ${backend} lifecycle ${impl} (round ${round})`,
            command,
            args,
            file: (line) => ({
              [measurementKey(runtime, backend, "startup", impl)]: [line.startupMs as number],
              [measurementKey(runtime, backend, "memory", impl)]: [line.memoryMiB as number],
              [measurementKey(runtime, backend, "parentHeap", impl)]: [(line.parentHeapGrowthKiB as number) / 1024],
            }),
          });
        }
      }
    }
  }
  for (const runtime of RUNTIMES) {
    // procpool through a nats-server and one agent (two worker processes) against raw NATS request/reply with the
    // same client, rounds interleaved; the scenario starts and stops its own nats-server and agent, and this job's
    // process group is killed after it, so nothing outlives a failed run.
    const [natsCommand, natsArgs] = runtimeCommand(runtime, "nats.ts", [`rounds=${ROUNDS}`]);
    jobs.push({
      label: `${runtime} nats submit+latency+map procpool+raw`,
      command: natsCommand,
      args: natsArgs,
      file: (line) => {
        const samples = (line.samples ?? {}) as Record<string, number[]>;
        return {
          [measurementKey(runtime, NATS_BACKEND, "submit", "procpool")]: samples.submitProcpool,
          [measurementKey(runtime, NATS_BACKEND, "submit", "raw")]: samples.submitRaw,
          [measurementKey(runtime, NATS_BACKEND, "latency", "procpool")]: samples.latencyProcpool,
          [measurementKey(runtime, NATS_BACKEND, "latency", "raw")]: samples.latencyRaw,
          [measurementKey(runtime, NATS_BACKEND, "map1000", "procpool")]: samples.map1000,
        };
      },
    });
  }
  jobs.push({
    label: "python3 cpython.py",
    command: "python3",
    args: [join("bench", "cpython.py"), String(ROUNDS)],
    file: (line) => ({
      [measurementKey("python", "process", "submit", "cpython")]: line.submit as number[],
      [measurementKey("python", "process", "map1000", "cpython")]: line.map1000 as number[],
    }),
  });
  return jobs;
}

// The values scenario's milliseconds per call as calls per second, procpool's and the raw baseline's; where the
// raw side tried two serializations (processes), the faster one for each value is the baseline.
function fileValues(runtime: Runtime, backend: string, samples: Record<string, number[]>): Record<string, number[]> {
  const perSecond = (ms: number[] | undefined) => (ms ?? []).map((x) => 1000 / x);
  const out: Record<string, number[]> = {};
  for (const key of Object.keys(samples)) {
    const [value, impl] = key.split(":");
    if (impl === "procpool") out[measurementKey(runtime, backend, value, "procpool")] = perSecond(samples[key]);
  }
  for (const value of VALUE_CASES) {
    const raws = Object.keys(samples).filter((key) => key.startsWith(`${value}:raw`)).map((key) => samples[key]);
    const fastest = raws.sort((a, b) => median(a) - median(b))[0];
    if (fastest !== undefined) out[measurementKey(runtime, backend, value, "raw")] = perSecond(fastest);
  }
  return out;
}

interface Outcome {
  readonly line?: Record<string, unknown>;
  readonly error?: string;
  readonly seconds: number;
}

// Runs one job in its own process group, so that a hung scenario and the workers it started can be killed.
function runJob(job: Job): Promise<Outcome> {
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(job.command, job.args, {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, job.timeoutMs ?? JOB_TIMEOUT_MS);
    const finish = (code: number | null, signal: string | null, spawnError?: Error) => {
      clearTimeout(timer);
      killGroup(); // workers a failed scenario left behind
      const seconds = (performance.now() - start) / 1000;
      const line = stdout.split("\n").reverse().map(parseLine).find((l) => l !== undefined);
      if (line !== undefined && code === 0) return resolve({ line, seconds });
      const why = spawnError?.message ??
        (timedOut
          ? `timed out after ${(job.timeoutMs ?? JOB_TIMEOUT_MS) / 1000} s`
          : `exited with ${signal ?? `code ${code}`}`);
      const tail = stderr.trim().split("\n").slice(-6).join(" | ");
      resolve({ error: `${why}${tail === "" ? "" : `: ${tail}`}`, seconds });
    };
    child.once("error", (error) => finish(null, null, error));
    child.once("close", (code, signal) => finish(code, signal));
  });
}

function parseLine(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function version(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8" }).split("\n")[0].trim();
  } catch (error) {
    return `unavailable (${(error as Error).message})`;
  }
}

function loadAverage(): string {
  return os.loadavg().map((x) => x.toFixed(2)).join(" ");
}

function machine(): Record<string, string | number> {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  return {
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown",
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    deno: version(DENO, ["--version"]),
    bun: version(BUN, ["--version"]),
    python: version("python3", ["--version"]),
    load: loadAverage(),
  };
}

const started = performance.now();
const info = machine();
console.log("procpool benchmark");
for (const [key, value] of Object.entries(info)) console.log(`  ${key.padEnd(9)} ${value}`);
console.log(`  rounds    ${ROUNDS} (median reported); 2 workers; every measurement in a fresh child process`);
if (os.loadavg()[0] > 0.5) {
  console.log(`  warning   the machine is not idle (load ${info.load}): other work skews these numbers`);
}
console.log();

// BENCH_ONLY=<text>[,<text>…]: only the jobs whose label contains one of them (e.g. "nats,cpython", "deno worker");
// such a partial run prints its rows and writes nothing, so that results.json and chart.svg always hold a whole run.
const only = process.env.BENCH_ONLY;
const wanted = only?.split(",").map((s) => s.trim()).filter((s) => s !== "");
const jobs = plan().filter((job) => wanted === undefined || wanted.some((text) => job.label.includes(text)));
const measurements: Measurements = {};
const log: { label: string; seconds: number; error?: string }[] = [];
for (let i = 0; i < jobs.length; i++) {
  const job = jobs[i];
  const outcome = await runJob(job);
  const mark = outcome.error === undefined ? "ok" : "FAILED";
  console.error(
    `[${String(i + 1).padStart(3)}/${jobs.length}] ${job.label} … ${mark} (${outcome.seconds.toFixed(1)} s)`,
  );
  log.push({ label: job.label, seconds: outcome.seconds, error: outcome.error });
  if (outcome.line !== undefined) {
    for (const [key, samples] of Object.entries(job.file(outcome.line))) {
      const entry = measurements[key] ?? { samples: [] };
      measurements[key] = { ...entry, samples: [...entry.samples, ...samples] };
    }
  } else {
    for (const [key] of Object.entries(job.file({ samples: [], submit: [], map1000: [] }))) {
      const entry = measurements[key] ?? { samples: [] };
      // A failed round of a per-round measurement is reported, not silently dropped.
      measurements[key] = { ...entry, error: entry.error ?? `${job.label}: ${outcome.error}` };
    }
  }
}

const rows = buildRows(measurements).filter((row) =>
  only === undefined || row.errors.some((e) => !e.endsWith(": not run")) || row.value !== undefined
);
const durationS = (performance.now() - started) / 1000;
console.log(`\n${formatTable(rows)}\n`);
const passed = rows.filter((r) => r.status === "PASS").length;
const targeted = rows.filter((r) => r.target !== undefined).length;
const loadAtEnd = loadAverage();
console.log(`${passed}/${targeted} targets met; total ${durationS.toFixed(0)} s; load average at the end ${loadAtEnd}`);

if (only !== undefined) {
  console.log(`BENCH_ONLY=${only}: a partial run, bench/results left as they were`);
  process.exit(process.exitCode ?? 0);
}
mkdirSync(RESULTS, { recursive: true });
writeFileSync(
  join(RESULTS, "results.json"),
  `${
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: info,
        loadAtEnd,
        rounds: ROUNDS,
        durationS,
        measurements,
        rows,
        jobs: log,
      },
      null,
      2,
    )
  }\n`,
);
const title = `procpool ÷ baseline, median of ${ROUNDS} rounds (${info.cpu}, ${info.cores} cores)`;
writeFileSync(join(RESULTS, "chart.svg"), renderChart(rows, title));
console.log(`wrote ${join("bench", "results", "results.json")} and ${join("bench", "results", "chart.svg")}`);

// Runs every example on Node, Deno and Bun with both backends, prints each output and checks it tells its story.
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const examplesDir = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name: string): string => join(root, "node_modules", ".bin", name);

const TIMEOUT_MS = 30_000;
const PARALLEL = 2;

interface Runtime {
  readonly name: string;
  /** The command line that runs one TypeScript file. */
  command(file: string): string[];
  /** The backends to try: the runtime's default ("auto") first, then the other one. */
  readonly backends: readonly { readonly env: string; readonly label: string }[];
}

const runtimes: readonly Runtime[] = [
  {
    name: "node",
    command: (file) => [process.execPath, "--import", "tsx", file],
    backends: [{ env: "auto", label: "auto = process" }, { env: "worker", label: "worker" }],
  },
  {
    name: "deno",
    command: (file) => [bin("deno"), "run", "-A", file],
    backends: [{ env: "auto", label: "auto = worker" }, { env: "process", label: "process" }],
  },
  {
    name: "bun",
    command: (file) => [bin("bun"), "run", file],
    backends: [{ env: "auto", label: "auto = worker" }, { env: "process", label: "process" }],
  },
];

// How each runtime's own script starts: Node's is JavaScript run with no loader (the built package), Deno's
// imports procpool by its jsr: specifier through an import map, Bun's runs as Bun runs TypeScript.
const byRuntime: Record<string, (file: string) => string[]> = {
  node: (file) => [process.execPath, file],
  deno: (file) => [bin("deno"), "run", "-A", "--import-map", join(examplesDir, "by_runtime", "import_map.json"), file],
  bun: (file) => [bin("bun"), "run", file],
};

interface Story {
  readonly file: string;
  /**
   * Only on this runtime, started by this command line: the scripts written the way each runtime is used
   * (by_runtime/). Left out, the example runs on every runtime as TypeScript.
   */
  readonly only?: { readonly runtime: string; command(file: string): string[] };
  /** Patterns that must all appear in the combined stdout+stderr, in this order. */
  readonly inOrder: readonly RegExp[];
  /** Patterns that must not appear at all. */
  readonly absent?: readonly RegExp[];
}

const BROKEN =
  /BrokenProcessPool: A process in the process pool was terminated abruptly while the future was running or pending\./;

const stories: readonly Story[] = [
  {
    file: "01_initializer_fails.ts",
    // At least one worker reports its failing initializer with a stack into tasks.ts, then the pool is broken.
    inOrder: [
      /^Exception in initializer:$/m,
      /Something bad happened!/,
      /failingInitializer \(.*tasks\.ts:\d+:\d+\)/,
      BROKEN,
    ],
    // No task may have produced a result.
    absent: [/^\d+$/m],
  },
  { file: "02_handle_in_task.ts", inOrder: [/^Unable to get the result$/m] },
  { file: "03_handle_outside_task.ts", inOrder: [/^Unable to get the result$/m] },
  { file: "04_check_exception.ts", inOrder: [/^Something bad happened!$/m] },
  {
    file: "05_map_exception.ts",
    // The error surfaces with the worker's stack frame inside the task module.
    inOrder: [/Something bad happened!/, /workOnItemThatFails \(.*tasks\.ts:\d+:\d+\)/],
  },
  {
    file: "06_callback_exception.ts",
    inOrder: [
      /exception calling callback for <Future at #\d+ state=finished returned string>/,
      /Something bad happened!/,
      /^Callback 2 called\.$/m,
      /^Task is done$/m,
    ],
  },
  {
    file: "07_big_arrays.ts",
    // Moved on threads (nothing left, memory shared), copied on processes (all left, the child's writes its own).
    inOrder: [
      /^got 1000000 squares, the last 999998000001$/m,
      /^sum of a copy: 333332833333127550$/m,
      new RegExp(
        "^after submit\\(sum, transfer\\(values\\)\\): (?:" +
          "0 elements left here\nsum of the moved array: 333332833333127550\n.*: 7,7,7,7|" +
          "1000000 elements left here\nsum of the moved array: 333332833333127550\n.*: 0,0,0,0)$",
        "m",
      ),
    ],
  },
  ...["node", "deno", "bun"].map((runtime): Story => ({
    file: `by_runtime/${runtime === "node" ? "node.mjs" : `${runtime}.ts`}`,
    only: { runtime, command: byRuntime[runtime] },
    inOrder: [
      new RegExp(`^${runtime}: 17984 primes below 200000$`, "m"),
      /^exception calling callback for <Future at #\d+ state=finished raised RangeError>/m,
      /this callback fails, and is only logged/,
      new RegExp(
        `^${runtime}: the next callback still runs \\(<Future at #\\d+ state=finished raised RangeError>\\)$`,
        "m",
      ),
      new RegExp(`^${runtime}: the task failed: RangeError: empty range \\[10, 5\\)$`, "m"),
    ],
  })),
];

interface Job {
  readonly story: Story;
  readonly runtime: Runtime;
  readonly backend: { readonly env: string; readonly label: string };
}

interface Outcome {
  readonly output: string;
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly ms: number;
}

// Plain text output: no colours (Deno treats any FORCE_COLOR, even "0", as a request for colour).
function childEnv(backend: string): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, PROCPOOL_BACKEND: backend, NO_COLOR: "1" };
  delete env.FORCE_COLOR;
  return env;
}

// deno-lint-ignore no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

const scratch = mkdtempSync(join(tmpdir(), "procpool-examples-"));
let nextLog = 0;

// Both stdout and stderr go to one file, so that the check sees the lines in the order they were written
// (the callback log on stderr must come before "Callback 2 called." on stdout). Worker processes inherit it.
function runJob(job: Job): Promise<Outcome> {
  const logPath = join(scratch, `${nextLog++}.log`);
  const fd = openSync(logPath, "w");
  const file = join(examplesDir, job.story.file);
  const [command, ...args] = (job.story.only?.command ?? job.runtime.command)(file);
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: root,
    stdio: ["ignore", fd, fd],
    env: childEnv(job.backend.env),
  });
  closeSync(fd);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, TIMEOUT_MS);
  return new Promise((resolve) => {
    const finish = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      const output = readFileSync(logPath, "utf8").replace(ANSI_ESCAPE, "");
      resolve({ output, code, signal, timedOut, ms: performance.now() - started });
    };
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ output: String(error), code: null, signal: null, timedOut: false, ms: performance.now() - started });
    });
    child.once("exit", finish);
  });
}

/** Returns what is wrong with an outcome, or an empty list when it tells the example's story. */
function problems(story: Story, outcome: Outcome): string[] {
  const found: string[] = [];
  if (outcome.timedOut) found.push(`timed out after ${TIMEOUT_MS / 1000} s`);
  else if (outcome.code !== 0) found.push(`exit code ${outcome.code ?? `signal ${outcome.signal}`}, expected 0`);
  let from = 0;
  for (const pattern of story.inOrder) {
    const match = pattern.exec(outcome.output.slice(from));
    if (match === null) {
      found.push(`missing ${pattern}${from > 0 ? " (after the previous expected line)" : ""}`);
      break;
    }
    from += match.index + match[0].length;
  }
  for (const pattern of story.absent ?? []) {
    if (pattern.test(outcome.output)) found.push(`unexpected ${pattern}`);
  }
  return found;
}

const jobs: Job[] = [];
for (const runtime of runtimes) {
  for (const backend of runtime.backends) {
    for (const story of stories) {
      if (story.only === undefined || story.only.runtime === runtime.name) jobs.push({ story, runtime, backend });
    }
  }
}

// Run PARALLEL jobs at a time; print each report in job order as soon as it and all before it are done.
const reports: (string | undefined)[] = new Array(jobs.length);
const failures: string[] = [];
let printed = 0;
let next = 0;
const startedAll = performance.now();

function report(index: number, outcome: Outcome): void {
  const job = jobs[index];
  const title = `${job.story.file} — ${job.runtime.name} / ${job.backend.label}`;
  const found = problems(job.story, outcome);
  if (found.length > 0) failures.push(title);
  const verdict = found.length === 0 ? "ok" : `FAILED: ${found.join("; ")}`;
  reports[index] = `=== ${title} ===\n${outcome.output.trimEnd()}\n--- ${verdict} (${outcome.ms.toFixed(0)} ms)\n`;
  while (printed < jobs.length && reports[printed] !== undefined) {
    console.log(reports[printed]);
    printed++;
  }
}

async function lane(): Promise<void> {
  while (next < jobs.length) {
    const index = next++;
    report(index, await runJob(jobs[index]));
  }
}

try {
  await Promise.all(Array.from({ length: PARALLEL }, lane));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const seconds = ((performance.now() - startedAll) / 1000).toFixed(1);
const combos = runtimes.map((r) => `${r.name} (${r.backends.map((b) => b.env).join(", ")})`).join(", ");
const passed = jobs.length - failures.length;
const everywhere = stories.filter((story) => story.only === undefined).length;
console.log(
  `Summary: ${passed}/${jobs.length} passed — ${everywhere} examples × ${combos}, ` +
    `and each runtime's own script on its backends — ${seconds} s`,
);
for (const title of failures) console.log(`  failed: ${title}`);
process.exitCode = failures.length === 0 ? 0 : 1;

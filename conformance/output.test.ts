// R10.2 with the parent's stdout a slow pipe: every byte a worker writes before it ends reaches the parent's stdout
// (and stderr), however the worker ends: the pool's shutdown, retirement under maxTasksPerChild, a failing
// initializer, or task code calling process.exit. A pipe holds 64 KiB; what a worker writes while nobody reads
// must not be dropped when the worker ends (CPython's workers write through blocking file descriptors and flush
// before they exit).
//
// Each case runs conformance/tasks/r10_flush_script.ts as `sh -c '<program> | <slow reader>'`, so that its stdout is
// a real pipe (a runner's own stdio pipes may be sockets, which hold far more). The reader takes one byte as soon as
// it comes, then nothing for READER_DELAY_MS (the pipe fills up, and the worker ends meanwhile), then 64 KiB every
// READER_PACE_MS until the end: the pipe stays full while the next workers start and write.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { backends, runtime, taskModule } from "./_backends.ts";
import { repoRoot, runtimeCommand } from "./_scripts.ts";
import { expectedOutput, LETTERS, type Stream } from "./tasks/r10_flush_tasks.ts";

const SCRIPT = fileURLToPath(taskModule("r10_flush_script.ts"));
const READER_DELAY_MS = 800;
const READER_PACE_MS = 50;
const RUN_TIMEOUT_MS = 30_000;
const LONG = { timeout: 60_000 };

// dd copies one read() per call and says "0+0 records in" at the end of its input (LC_ALL=C keeps that in English).
const SLOW_READER = `{ dd bs=1 count=1 2>/dev/null; sleep ${READER_DELAY_MS / 1000}; while :; do ` +
  `r=$(dd bs=65536 count=1 2>&1 >&4); case $r in "0+0 records in"*) break;; esac; sleep ${READER_PACE_MS / 1000}; ` +
  `done; } 4>&1`;

// The program's stdout (or, swapped, its stderr) goes through the slow reader to this shell's stdout; the program's
// other stream, and then its exit code, go to this shell's stderr.
const SHELL: Record<Stream, string> = {
  stdout: `{ "$@"; echo "r10 flush exit code $?" >&2; } | ${SLOW_READER}`,
  stderr: `{ "$@" 2>&1 1>&3 3>&-; echo "r10 flush exit code $?" >&3; } 3>&2 | ${SLOW_READER}`,
};

interface Run {
  /** What came through the slow pipe. */
  readonly piped: string;
  /** The program's other stream, then its exit code. */
  readonly other: string;
}

function programCommand(args: string[]): [string, string[]] {
  // A Deno pool with denoPermissions runs its threads as Web Workers, which need --unstable-worker-options.
  return runtime === "deno"
    ? [process.execPath, ["run", "-A", "--unstable-worker-options", SCRIPT, ...args]]
    : runtimeCommand(SCRIPT, args);
}

function runThroughSlowPipe(backend: string, variant: string, stream: Stream, tag: string): Promise<Run> {
  const [command, argv] = programCommand([backend, variant, stream, tag]);
  const child = spawn("sh", ["-c", SHELL[stream], "sh", command, ...argv], {
    cwd: repoRoot,
    env: { ...process.env, LC_ALL: "C" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const piped: Buffer[] = [];
  const other: Buffer[] = [];
  child.stdout!.on("data", (chunk: Buffer) => piped.push(chunk));
  child.stderr!.on("data", (chunk: Buffer) => other.push(chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on("close", () => {
      clearTimeout(timer);
      resolve({ piped: Buffer.concat(piped).toString(), other: Buffer.concat(other).toString() });
    });
  });
}

// The same program with its stdout a file: the exit code and stderr are the child's own.
function runToFile(backend: string, variant: string, tag: string): Promise<Run> {
  const [command, argv] = programCommand([backend, variant, "stdout", tag]);
  const dir = mkdtempSync(join(tmpdir(), "procpool-r10-"));
  const path = join(dir, "stdout");
  const fd = openSync(path, "w");
  const child = spawn(command, argv, { cwd: repoRoot, stdio: ["ignore", fd, "pipe"] });
  closeSync(fd);
  const other: Buffer[] = [];
  child.stderr!.on("data", (chunk: Buffer) => other.push(chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      const piped = readFileSync(path, "utf8");
      rmSync(dir, { recursive: true, force: true });
      resolve({ piped, other: `${Buffer.concat(other).toString()}r10 flush exit code ${code}\n` });
    });
  });
}

// Where `actual` first differs from `expected`, with a little context (the texts are ~400 KB: no full diff).
function firstDifference(actual: string, expected: string): string {
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, i - 40), i + 40));
  return `first difference at byte ${i}:\n  got      ${around(actual)}\n  expected ${around(expected)}`;
}

function count(text: string, char: string): number {
  let n = 0;
  for (let i = text.indexOf(char); i !== -1; i = text.indexOf(char, i + 1)) n++;
  return n;
}

interface Variant {
  /** The case's name in the test title. */
  readonly name: string;
  /** The script's variant argument. */
  readonly arg: string;
  /** What the script prints on its other stream: how the pool took it. */
  readonly outcome: (tag: string) => string;
  /** Checks what came through the pipe. */
  readonly check: (piped: string, tag: string, stream: Stream, context: string) => void;
}

// One worker wrote expectedOutput(tag): exactly that, in order, must come through.
function wholeOutput(piped: string, tag: string, stream: Stream, context: string): void {
  const expected = expectedOutput(tag);
  assert.ok(
    piped.length === expected.length,
    `${piped.length} of the ${expected.length} bytes the worker wrote to ${stream} arrived; ` +
      `${firstDifference(piped, expected)}${context}`,
  );
  assert.ok(piped === expected, `the bytes arrived out of order or changed; ${firstDifference(piped, expected)}`);
}

// Two workers wrote at once, so their lines may interleave (a pipe keeps only writes of up to 4 KiB whole): count
// each task's letters.
function everyLetter(piped: string, _tag: string, stream: Stream, context: string): void {
  const got = LETTERS.map((letter) => `${letter}: ${count(piped, letter)}`).join(", ");
  const want = LETTERS.map((letter) => `${letter}: 199000`).join(", ");
  assert.ok(
    piped.length === LETTERS.length * 200_000 && got === want && count(piped, "\n") === LETTERS.length * 1000,
    `${piped.length} of the ${LETTERS.length * 200_000} bytes the workers wrote to ${stream} arrived ` +
      `(letters ${got}; each should be 199000)${context}`,
  );
}

const SHUTDOWN: Variant = {
  name: "shutdown",
  arg: "shutdown",
  outcome: (tag) => `returned ${tag}`,
  check: wholeOutput,
};
const EXIT: Variant = {
  name: "task calling process.exit",
  arg: "exit",
  outcome: () => "raised BrokenProcessPool",
  check: wholeOutput,
};
const VARIANTS: readonly Variant[] = [
  SHUTDOWN,
  {
    name: "maxTasksPerChild retirement",
    arg: "maxTasksPerChild",
    outcome: (tag) => `returned ${tag}, then 2`,
    check: wholeOutput,
  },
  {
    name: "maxTasksPerChild retirement, two workers writing at once",
    arg: "concurrent",
    outcome: () => `returned ${LETTERS.join("")}`,
    check: everyLetter,
  },
  { name: "failing initializer", arg: "initializer", outcome: () => "raised BrokenProcessPool", check: wholeOutput },
  EXIT,
];

// Deno's thread backend is a Web Worker when the pool restricts permissions: a third backend there.
const BACKENDS: readonly { readonly label: string; readonly arg: string }[] = [
  ...backends.map((backend) => ({ label: backend, arg: backend })),
  ...(runtime === "deno" ? [{ label: "worker, Web Worker", arg: "web-worker" }] : []),
];

async function check(backend: string, variant: Variant, stream: Stream, toFile = false): Promise<void> {
  const tag = `t${Math.random().toString(36).slice(2, 10)}`;
  const run = toFile
    ? await runToFile(backend, variant.arg, tag)
    : await runThroughSlowPipe(backend, variant.arg, stream, tag);
  const context = `\n--- the program's other stream ---\n${run.other.slice(0, 4_000)}`;
  assert.match(run.other, /r10 flush exit code 0\n/, `the program did not exit with code 0${context}`);
  assert.ok(run.other.includes(`r10 flush parent: ${variant.outcome(tag)}\n`), `unexpected outcome${context}`);
  variant.check(run.piped, tag, stream, context);
}

describe(`R10.2 a worker's output survives its end, with the parent's stdout a slow pipe (${runtime})`, () => {
  for (const { label, arg } of BACKENDS) {
    for (const variant of VARIANTS) {
      it(
        `R10.2 every byte a worker writes before it ends reaches the parent's stdout: ${variant.name} (${runtime}, ${label})`,
        LONG,
        () => check(arg, variant, "stdout"),
      );
    }
    it(
      `R10.2 every byte a worker writes before it ends reaches the parent's stderr: ${SHUTDOWN.name} (${runtime}, ${label})`,
      LONG,
      () => check(arg, SHUTDOWN, "stderr"),
    );
    it(
      `R10.2 every byte a worker writes before it ends reaches the parent's stdout when it is a file: ${EXIT.name} (${runtime}, ${label})`,
      LONG,
      () => check(arg, EXIT, "stdout", true),
    );
  }
});

// R7.6 with a busy worker: a process worker whose main thread spins in a synchronous task still dies with its
// parent (the IPC channel's "disconnect" handler cannot run then; the watchdog thread of watchdog.ts must).

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { backends, runtime } from "./_backends.ts";
import { repoRoot, runtimeCommand } from "./_scripts.ts";

const script = fileURLToPath(new URL("./tasks/r7_spin_orphan_script.ts", import.meta.url));

/** How long the worker may outlive its parent: the rule's 1 s, and half a second for a busy machine. */
const DEADLINE_MS = 1_500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A zombie (state Z in /proc/PID/stat, on Linux) has ended; only its reaper has not collected it yet.
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false; // no /proc here, or the process ended just now (the next look tells)
  }
}

// Waits until `condition()` holds, or `ms` have passed; says whether it held.
async function within(ms: number, condition: () => boolean): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

// Starts the parent program, waits until its worker spins, SIGKILLs the parent and gives the worker DEADLINE_MS to go.
async function killParentOfSpinningWorker(args: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "procpool-r7-spin-"));
  const [command, argv] = runtimeCommand(script, [join(dir, "pid"), ...args]);
  const parent = spawn(command, argv, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  parent.stdout!.on("data", (chunk) => (stdout += chunk));
  parent.stderr!.on("data", (chunk) => (stderr += chunk));
  // "exit", not "close": the worker inherits the parent's stdout and stderr, so they close only when it dies.
  const exited = new Promise((resolve) => parent.on("exit", resolve));
  let worker: number | undefined;
  try {
    const started = await within(15_000, () => /spinning \d+/.test(stdout) || parent.exitCode !== null);
    const line = /spinning (\d+)/.exec(stdout);
    assert.ok(started && line !== null, `the task did not start within 15 s (stderr: ${stderr})`);
    worker = Number(line[1]);
    assert.equal(isGone(worker), false, "the worker died before its parent");
    const killed = Date.now();
    parent.kill("SIGKILL");
    await exited;
    const gone = await within(DEADLINE_MS, () => isGone(worker!));
    const ms = Date.now() - killed;
    assert.ok(gone, `worker ${worker} still runs ${ms} ms after its parent was killed (stderr: ${stderr})`);
  } finally {
    if (parent.exitCode === null && parent.signalCode === null) parent.kill("SIGKILL");
    try {
      if (worker !== undefined && !isGone(worker)) process.kill(worker, "SIGKILL");
    } catch {
      // it ended meanwhile
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const RULE = "R7.6 a child spinning in a synchronous task dies within 1 s of its parent's SIGKILL";

describe(`R7.6 orphaned busy workers (${runtime})`, () => {
  for (const backend of backends.filter((kind) => kind === "process")) {
    it(`${RULE} (${runtime}, ${backend})`, { timeout: 20_000 }, () => killParentOfSpinningWorker([]));
    if (runtime !== "deno") continue;
    // The watchdog needs no Deno permission: a thread from a data: URL, the parent pid, a signal to itself.
    it(`${RULE} (${runtime}, ${backend}, denoPermissions { write } only)`, { timeout: 20_000 }, () => {
      return killParentOfSpinningWorker(["restricted"]);
    });
  }
});

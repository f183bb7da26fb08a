// Which backends this runtime has: every real-process test and property runs once per backend listed here.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BackendKind, ProcessPoolExecutor } from "../mod.ts";
import { currentRuntime, type RuntimeName } from "../src/runtime/detect.ts";

/** The runtime the tests run on. */
export const runtime: RuntimeName = currentRuntime();

/** The concrete backends of this runtime, the default first. */
export const backends: readonly Exclude<BackendKind, "auto">[] = runtime === "node"
  ? ["process", "worker"]
  : ["worker", "process"];

/** The URL of a task module under conformance/tasks/. */
export function taskModule(name: string): URL {
  return new URL(`./tasks/${name}`, import.meta.url);
}

/**
 * Resolves once `pool` runs `n` workers, all started: it runs `n` calls of the task module's `allUp` (re-exported
 * from tasks/all_up.ts), which can only all finish when each has a worker of its own. Tests that measure how
 * tasks spread over workers start from there, not from a worker still starting.
 */
export async function allWorkersUp(pool: ProcessPoolExecutor, n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "procpool-up-"));
  try {
    await Promise.all(Array.from({ length: n }, () => pool.submit("allUp", dir, n).result(60_000)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

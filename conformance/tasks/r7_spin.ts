// Task module for orphan.test.ts (R7.6): a task that holds its worker's main thread in a synchronous loop.

import { writeFileSync } from "node:fs";
import process from "node:process";

/**
 * Writes this worker's pid to `pidFile`, then spins without yielding for `ms` (the bound only keeps a test that
 * fails from leaving a process behind for long). While it spins, no event handler of the worker runs.
 */
export function spin(pidFile: string, ms: number): never {
  writeFileSync(pidFile, String(process.pid));
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy: the IPC channel's "disconnect" handler cannot run
  }
  throw new Error(`spun for ${ms} ms and nobody killed this worker`);
}

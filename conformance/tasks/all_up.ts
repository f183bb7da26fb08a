// A task that makes a test's pool start all its workers: each call waits until `n` calls are running at once,
// which takes `n` workers (a ready worker that has one of them is busy until all have started).

import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Registers this call in `dir`, then waits until `n` calls have (each on its own worker). */
export async function allUp(dir: string, n: number): Promise<void> {
  writeFileSync(join(dir, `${Date.now()}-${Math.random()}`), "");
  while (readdirSync(dir).length < n) await new Promise((resolve) => setTimeout(resolve, 5));
}

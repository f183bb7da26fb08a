// Task module for the AbortSignal conformance tests: tasks that leave a marker when they start, block (without
// using the CPU) until the test releases them, and leave another when they finish.

import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Doubles `x` at once. */
export function double(x: number): number {
  return x * 2;
}

/**
 * Writes `dir/x.started`, waits until the file `dir/release` exists, writes `dir/x.finished`, and returns 2x:
 * the markers show which tasks ran, and that a running task finished rather than being stopped.
 */
export async function gated(dir: string, x: number): Promise<number> {
  writeFileSync(join(dir, `${x}.started`), "");
  while (!existsSync(join(dir, "release"))) await new Promise((resolve) => setTimeout(resolve, 10));
  writeFileSync(join(dir, `${x}.finished`), "");
  return x * 2;
}

/** {@linkcode gated} with its arguments in one object, for `map()`. */
export function gatedItem(item: { dir: string; x: number }): Promise<number> {
  return gated(item.dir, item.x);
}

// Task module for the R4 (future state) conformance tests: naps that hold a worker, and a marker that proves a
// task ran.

import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Waits `ms` without using the CPU, then returns `value`. The worker stays occupied meanwhile. */
export async function nap<T>(ms: number, value: T): Promise<T> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return value;
}

/** Writes the file `dir/tag` when it starts (proof that it ran), then naps `ms` and returns `tag`. */
export async function markAndNap(dir: string, tag: string, ms: number): Promise<string> {
  writeFileSync(join(dir, tag), "ran");
  await new Promise((resolve) => setTimeout(resolve, ms));
  return tag;
}

export function double(x: number): number {
  return x * 2;
}

/** Blocks (without using the CPU) until the file `path` exists, then returns `value`. */
export async function blockUntil<T>(path: string, value: T): Promise<T> {
  while (!existsSync(path)) await new Promise((resolve) => setTimeout(resolve, 10));
  return value;
}

/**
 * Initializer: the first worker to run it (the one that creates `dir/first`) is slow to start, waiting until the
 * file `dir/release` exists; every other worker starts at once.
 */
export async function firstWorkerWaits(dir: string): Promise<void> {
  try {
    writeFileSync(join(dir, "first"), "", { flag: "wx" });
  } catch {
    return;
  }
  await blockUntil(join(dir, "release"), undefined);
}

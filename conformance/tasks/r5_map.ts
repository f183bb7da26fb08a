// Task module for the R5 (map / starmap) conformance tests: doubling that fails on negatives, naps that report
// when they ended, BigInt powers, and a marker file that proves an item ran.

import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** An error class this module exports, so it comes back to the parent as itself. */
export class ValueError extends Error {
  static {
    this.prototype.name = "ValueError";
  }
}

/** Doubles `x`; a negative `x` throws ValueError "negative x". */
export function double(x: number): number {
  if (x < 0) throw new ValueError(`negative ${x}`);
  return x * 2;
}

/** `base ** exp` as a BigInt, exact for any size (Python's pow on ints). */
export function pow(base: number, exp: number): bigint {
  return BigInt(base) ** BigInt(exp);
}

export function add(a: number, b: number): number {
  return a + b;
}

/** Naps `ms`, then returns `{ ms, endedAt }` (wall-clock end time). */
export async function nap(ms: number): Promise<{ ms: number; endedAt: number }> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { ms, endedAt: Date.now() };
}

/** One map item: write `dir/x` (proof that it ran), nap `ms`, return 2x; a negative x throws after the nap. */
export async function record(item: { dir: string; x: number; ms: number }): Promise<number> {
  writeFileSync(join(item.dir, String(item.x)), "ran");
  await new Promise((resolve) => setTimeout(resolve, item.ms));
  if (item.x < 0) throw new ValueError(`negative ${item.x}`);
  return item.x * 2;
}

/** `record` with separate arguments, for starmap. */
export function recordArgs(dir: string, x: number, ms: number): Promise<number> {
  return record({ dir, x, ms });
}

/** Throws in every worker: an initializer that breaks the pool. */
export function brokenInit(): void {
  throw new ValueError("initializer fails on purpose");
}

export { allUp } from "./all_up.ts";

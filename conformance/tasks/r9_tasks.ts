// Task module for the R9 (bad input) conformance tests: a few ordinary tasks and an export that is not a function.

import { writeFileSync } from "node:fs";
import { join } from "node:path";

export function double(x: number): number {
  return x * 2;
}

/** Naps `ms`, then returns `value`. */
export async function nap<T>(ms: number, value: T): Promise<T> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return value;
}

/** Writes `dir/tag` (proof that it ran) and returns `tag`. */
export function mark(dir: string, tag: string): string {
  writeFileSync(join(dir, tag), "ran");
  return tag;
}

/** `mark` with one argument, for map(). */
export function markItem(item: { dir: string; tag: string }): string {
  return mark(item.dir, item.tag);
}

/** An export that is not a function: submitting it by name must fail. */
export const notAFunction = 42;

export function initialize(): void {}

// Task module for the R7 (shutdown and lifetime) conformance tests: tasks that say which worker ran them, naps,
// a heartbeat that shows whether a worker is still alive, and markers that prove a task ran.

import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { threadId } from "node:worker_threads";

/** Which worker runs this: "pid:threadId" (the pid tells processes apart, the thread id threads). */
export function whoami(): string {
  return `${process.pid}:${threadId}`;
}

/** Naps `ms`, then says which worker ran it. */
export async function napWho(ms: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return whoami();
}

/** Writes `dir/<worker>` (which worker started it), waits until `dir/release` exists, says which worker ran it. */
export async function gateWho(dir: string): Promise<string> {
  writeFileSync(join(dir, whoami().replace(":", "-")), "");
  while (!existsSync(join(dir, "release"))) await new Promise((resolve) => setTimeout(resolve, 10));
  return whoami();
}

/** Naps `ms`, then returns `value`. */
export async function nap<T>(ms: number, value: T): Promise<T> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return value;
}

/** Writes `dir/tag` (proof that it ran), naps `ms`, returns `tag`. */
export async function markAndNap(dir: string, tag: string, ms: number): Promise<string> {
  writeFileSync(join(dir, tag), "ran");
  await new Promise((resolve) => setTimeout(resolve, ms));
  return tag;
}

export function double(x: number): number {
  return x * 2;
}

export function abs(x: number): number {
  return Math.abs(x);
}

/** Returns `x`; an even `x` throws (CPython gh-132969's good/failing tasks). */
export function goodOrFail(x: number): number {
  if (x % 2 === 0) throw new Error(`failing ${x}`);
  return x;
}

/**
 * Starts appending a byte to `path` every 20 ms for as long as this worker lives, and says which worker it is.
 * A file that stops growing shows that the worker (process or thread) is gone.
 */
export function heartbeat(path: string): string {
  appendFileSync(path, ".");
  setInterval(() => appendFileSync(path, "."), 20);
  return whoami();
}

export { allUp } from "./all_up.ts";

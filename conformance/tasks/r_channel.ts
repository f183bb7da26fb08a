// Task code that talks on the worker's own channel, sleeps, spins or exits: fixtures for the reliability tests.

import { writeFileSync } from "node:fs";
import process from "node:process";
import { parentPort } from "node:worker_threads";

/** Returns x at once. */
export function quick(x: number): number {
  return x;
}

/** Spins the CPU for `ms` milliseconds, then returns `ms`. */
export function spin(ms: number): number {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
  return ms;
}

/**
 * Posts `message` on whatever channel the worker has for its parent, the way task code reports progress:
 * `parentPort.postMessage` in a thread (`self.postMessage` in a Deno Web Worker), `process.send` in a child.
 */
export function chat(message: unknown): string {
  if (parentPort !== null) {
    parentPort.postMessage(message);
    return "parentPort";
  }
  if (typeof process.send === "function") {
    process.send(message);
    return "process.send";
  }
  (globalThis as unknown as { postMessage(message: unknown): void }).postMessage(message);
  return "self.postMessage";
}

/** Exits the worker with `code`: `process.exit` (`Deno.exit` in a Deno Web Worker, where that is what exits). */
export function exitNow(code: number): never {
  const deno = (globalThis as { Deno?: { exit(code: number): never } }).Deno;
  if (deno !== undefined && typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === "function") {
    deno.exit(code);
  }
  process.exit(code);
}

/** Writes `path` (proof that the initializer ran). */
export function mark(path: string): void {
  writeFileSync(path, "ran");
}

/** Returns two copies of a string of `n` characters: more text than a JSON transport can carry when n ≥ 2^28. */
export function huge(n: number): string[] {
  const s = "x".repeat(n);
  return [s, s];
}

/** Returns the lengths of its string arguments. */
export function lengths(...strings: string[]): number[] {
  return strings.map((s) => s.length);
}

/** Returns `x`, unless `x` is `exitAt`: then exits the worker (a quick function that exits once in a while). */
export function quickOrExit(x: number, exitAt: number): number {
  if (x === exitAt) exitNow(3);
  return x;
}

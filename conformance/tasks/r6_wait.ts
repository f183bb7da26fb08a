// Task module for the R6 (wait / asCompleted) conformance tests: quick arithmetic, failures, naps, and a task
// blocked until the test creates a file (CPython's tests block on an Event the same way).

import { existsSync } from "node:fs";

export class ZeroDivisionError extends Error {
  static {
    this.prototype.name = "ZeroDivisionError";
  }
}

export function mul(a: number, b: number): number {
  return a * b;
}

/** Python's divmod: [quotient, remainder]; a zero divisor throws ZeroDivisionError. */
export function divmod(a: number, b: number): [number, number] {
  if (b === 0) throw new ZeroDivisionError("integer division or modulo by zero");
  return [Math.floor(a / b), a % b];
}

/** Naps `ms`, then returns `value`. */
export async function nap<T>(ms: number, value: T): Promise<T> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return value;
}

/** Naps `ms`, then throws an Error with `message`. */
export async function failAfter(ms: number, message: string): Promise<never> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  throw new Error(message);
}

/** Naps `ms`, then returns the wall-clock time it ended at. */
export async function stamp(ms: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return Date.now();
}

/** Blocks (without using the CPU) until the file `path` exists, then returns `value`. */
export async function blockUntil<T>(path: string, value: T): Promise<T> {
  while (!existsSync(path)) await new Promise((resolve) => setTimeout(resolve, 10));
  return value;
}

export { allUp } from "./all_up.ts";

// Task module for the R1 tests: initializers that record their calls, wait, or fail, and tasks that report what
// the initializer left behind in their worker.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

/** The error the failing initializers throw (CPython's test raises ValueError). */
export class ValueError extends Error {
  static {
    this.prototype.name = "ValueError";
  }
}

// One module instance per worker (and one in the parent): this token tells them apart.
const token = `${process.pid}:${Math.random().toString(36).slice(2)}`;
let initCalls = 0;
let initArgs: unknown[] | undefined;
let initDone = false;
let tasksBeforeInit = 0;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Report {
  token: string;
  initCalls: number;
  initArgs: unknown[] | undefined;
  initDone: boolean;
  tasksBeforeInit: number;
}

/** A synchronous initializer that records its arguments. */
export function init(...args: unknown[]): void {
  initCalls++;
  initArgs = args;
  initDone = true;
}

/** An async initializer: it counts as done only once its promise settles, `ms` later. */
export async function asyncInit(ms: number, ...args: unknown[]): Promise<void> {
  initCalls++;
  await delay(ms);
  initArgs = args;
  initDone = true;
}

/** What the initializer did in this worker. */
export function report(): Report {
  if (!initDone) tasksBeforeInit++;
  return { token, initCalls, initArgs, initDone, tasksBeforeInit };
}

/** `report()` after a pause, so that several workers get used. */
export async function slowReport(ms: number): Promise<Report> {
  await delay(ms);
  return report();
}

export function double(x: number): number {
  return x * 2;
}

/** The tutorial's task: pauses a little, then returns its argument. */
export async function task(identifier: number): Promise<number> {
  await delay(10 + Math.random() * 40);
  return identifier;
}

/** An initializer that throws at once. */
export function failingInit(message: string): void {
  throw new ValueError(message);
}

/** CPython's FailingInitializerMixin initializer: sleeps (blocking) `ms`, then raises. */
export function slowFailingInit(ms: number, message: string): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* blocking, as time.sleep is */ }
  throw new ValueError(message);
}

/** An async initializer whose promise rejects after `ms`. */
export async function rejectingInit(ms: number, message: string): Promise<void> {
  await delay(ms);
  throw new ValueError(message);
}

/** An initializer that ends its worker with `code` instead of returning. */
export function exitingInit(code: number): void {
  process.exit(code);
}

/** Records this worker's pid as an empty file in `dir`, then throws. */
export function pidRecordingFailingInit(dir: string, message: string): void {
  writeFileSync(join(dir, String(process.pid)), "");
  throw new ValueError(message);
}

// Task module for the R8 tests: tasks that end their own worker (exit, late throw, late rejection) and helpers
// that tell the test which worker it is talking to.

import process from "node:process";
import { isMainThread, threadId } from "node:worker_threads";

interface DenoExit {
  exit(code: number): never;
}

/** Who runs this task: the process id, the thread id and whether it is a worker thread. */
export function whoAmI(): { pid: number; threadId: number; isMainThread: boolean } {
  return { pid: process.pid, threadId, isMainThread };
}

/** `whoAmI()` after `ms`, so that several workers get used. */
export async function whoAmILater(ms: number): Promise<{ pid: number; threadId: number; isMainThread: boolean }> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return whoAmI();
}

export function double(x: number): number {
  return x * 2;
}

/** Waits without blocking the worker's event loop, so that its timers still fire. */
export async function nap(ms: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
}

/** Ends the worker from inside a task: `process.exit(code)`, or `Deno.exit(code)` when `how` is "deno". */
export function exitNow(code: number, how: "process" | "deno" = "process"): never {
  const deno = (globalThis as { Deno?: DenoExit }).Deno;
  if (how === "deno" && deno !== undefined) deno.exit(code);
  process.exit(code);
}

/** Takes a large argument, then exits (CPython's test_crash_big_data). */
export function exitWithBigInput(data: string): never {
  process.exit(data.length > 0 ? 4 : 5);
}

/** Returns an object whose getter exits the worker while the result is being encoded for sending. */
export function exitWhileSending(code: number): unknown {
  return {
    get field(): number {
      return process.exit(code);
    },
  };
}

/** Returns at once, then ends the (by then idle) worker after `ms`; returns the wall-clock time of that exit. */
export function exitLater(code: number, ms: number): number {
  setTimeout(() => process.exit(code), ms);
  return Date.now() + ms;
}

/** Returns 1 at once; `ms` later an error is thrown outside any task. */
export function throwLater(ms: number): number {
  setTimeout(() => {
    throw new Error("late");
  }, ms);
  return 1;
}

/** Returns 1 at once; `ms` later a promise rejects with nobody listening. */
export function rejectLater(ms: number): number {
  setTimeout(() => {
    void Promise.reject(new Error("late rejection"));
  }, ms);
  return 1;
}

// R8.4: an error class whose export the parent cannot read. The worker throws an instance of the real class;
// the parent, rebuilding it, looks the class up by name and finds a revoked proxy, so decoding fails.
class Unreadable extends Error {
  static {
    this.prototype.name = "Unreadable";
  }
}
const revocable = Proxy.revocable(Unreadable, {});
revocable.revoke();
export const UnreadableExport = revocable.proxy;
Object.defineProperty(Unreadable, "name", { value: "UnreadableExport" });

/** Throws an error that the worker can encode but the parent cannot rebuild. */
export function throwUnreadable(): never {
  throw new Unreadable("cannot be rebuilt");
}
export { allUp } from "./all_up.ts";

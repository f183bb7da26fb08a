// A task module whose top level throws only inside a worker (a thread, or a child process started on
// child_entry.ts), so the parent imports it fine and the workers fail (R9.6).

import process from "node:process";
import { isMainThread } from "node:worker_threads";

export function double(x: number): number {
  return x * 2;
}

if (!isMainThread || /child_entry/.test(process.argv[1] ?? "")) {
  throw new Error("r9: this task module fails in the worker on purpose");
}

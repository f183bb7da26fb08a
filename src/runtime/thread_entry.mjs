// Entry point of a Node worker thread: give this thread a way to run TypeScript task modules, then serve from the
// entry the parent names (thread_entry.ts from source, thread_entry.js where the package was compiled). Node 22.18+
// and 23.6+ strip types themselves (`process.features.typescript`); before them, tsx's loader is installed when the
// project has tsx (a thread does not inherit the parent's `--import tsx`).
import process from "node:process";
import { workerData } from "node:worker_threads";

if (!process.features.typescript) {
  try {
    const { register } = await import("tsx/esm/api");
    register();
  } catch {
    // Without tsx the worker can still run a task module written in JavaScript.
  }
}
await import(workerData.entry);

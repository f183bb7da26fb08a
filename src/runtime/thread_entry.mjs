// Entry point of a Node worker thread: install tsx's TypeScript loader in this thread, then serve from the entry
// the parent names (thread_entry.ts from source, thread_entry.js where a registry compiled it).
import { workerData } from "node:worker_threads";

try {
  const { register } = await import("tsx/esm/api");
  register();
} catch {
  // Without tsx the worker can still run a task module written in JavaScript.
}
await import(workerData.entry);

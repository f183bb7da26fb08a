// Entry point of a Node worker thread: install tsx's TypeScript loader in this thread, then serve.
try {
  const { register } = await import("tsx/esm/api");
  register();
} catch {
  // Without tsx the worker can still run a task module written in JavaScript.
}
await import("./thread_entry.ts");

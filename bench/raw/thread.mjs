// Entry of a bare worker thread on Node: the same bootstrap as src/runtime/thread_entry.mjs (tsx's register()
// in this thread), then the TypeScript worker.
try {
  const { register } = await import("tsx/esm/api");
  register();
} catch {
  // Same fallback as procpool's entry.
}
await import("./thread.ts");

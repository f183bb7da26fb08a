// The task for piscina and tinypool (their worker module's default export): the bench task module's `inc`,
// loaded after the same tsx bootstrap as src/runtime/thread_entry.mjs, so the peers pay what procpool pays.
try {
  const { register } = await import("tsx/esm/api");
  register();
} catch {
  // Same fallback as procpool's entry.
}
const { inc } = await import("../tasks.ts");
export default inc;

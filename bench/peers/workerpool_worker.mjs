// workerpool's worker script: the same tsx bootstrap as src/runtime/thread_entry.mjs, then `inc` registered.
import workerpool from "workerpool";

try {
  const { register } = await import("tsx/esm/api");
  register();
} catch {
  // Same fallback as procpool's entry.
}
const { inc } = await import("../tasks.ts");
workerpool.worker({ inc });

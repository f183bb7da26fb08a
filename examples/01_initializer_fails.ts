// Shows that an initializer which throws breaks the pool: each started worker logs its failure, then map raises BrokenProcessPool.
import process from "node:process";
import { type BackendKind, ProcessPoolExecutor } from "../mod.ts";
import { echoAfterRandomPause, failingInitializer } from "./tasks.ts";

const backend = (process.env.PROCPOOL_BACKEND ?? "auto") as BackendKind;

async function main(): Promise<void> {
  // Two workers, each running the failing initializer before it would take any task.
  await using executor = new ProcessPoolExecutor({
    module: new URL("./tasks.ts", import.meta.url),
    maxWorkers: 2,
    initializer: failingInitializer,
    backend,
  });
  // Ten tasks are queued, but none can run: the first result already raises BrokenProcessPool.
  const identifiers = Array.from({ length: 10 }, (_, i) => i);
  for await (const result of executor.map(echoAfterRandomPause, identifiers)) {
    console.log(result);
  }
}

// Report the escaping error the way an uncaught one would look, but let the program end with exit code 0.
try {
  await main();
} catch (error) {
  console.error(error);
}

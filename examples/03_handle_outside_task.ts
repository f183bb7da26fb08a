// Shows the caller catching a task's error, which result() rethrows in the parent.
import process from "node:process";
import { type BackendKind, ProcessPoolExecutor } from "../mod.ts";
import { workThatFails } from "./tasks.ts";

const backend = (process.env.PROCPOOL_BACKEND ?? "auto") as BackendKind;

async function main(): Promise<void> {
  await using executor = new ProcessPoolExecutor({ module: new URL("./tasks.ts", import.meta.url), backend });
  const future = executor.submit(workThatFails);
  // The worker's error is stored in the future and thrown again here, where the caller deals with it.
  try {
    const result = await future.result();
    console.log(result);
  } catch {
    console.log("Unable to get the result");
  }
}

await main();

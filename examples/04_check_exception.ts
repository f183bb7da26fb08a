// Shows asking a future for its error with exception() instead of catching what result() throws.
import process from "node:process";
import { type BackendKind, ProcessPoolExecutor } from "../mod.ts";
import { workThatFails } from "./tasks.ts";

const backend = (process.env.PROCPOOL_BACKEND ?? "auto") as BackendKind;

async function main(): Promise<void> {
  await using executor = new ProcessPoolExecutor({ module: new URL("./tasks.ts", import.meta.url), backend });
  const future = executor.submit(workThatFails);
  // exception() waits for the task like result() does, but hands the error back (undefined on success).
  const exception = await future.exception();
  if (exception !== undefined) {
    // Print just the message, as Python's print(exception) would.
    console.log(exception instanceof Error ? exception.message : exception);
  } else {
    const result = await future.result();
    console.log(result);
  }
}

await main();

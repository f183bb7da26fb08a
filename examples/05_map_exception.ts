// Shows that map() gives no future to inspect: a failing task's error surfaces while iterating, worker stack included.
import process from "node:process";
import { type BackendKind, ProcessPoolExecutor } from "../mod.ts";
import { workOnItemThatFails } from "./tasks.ts";

const backend = (process.env.PROCPOOL_BACKEND ?? "auto") as BackendKind;

async function main(): Promise<void> {
  await using executor = new ProcessPoolExecutor({ module: new URL("./tasks.ts", import.meta.url), backend });
  // A single item: its error is thrown by the loop, at the position of that item.
  for await (const result of executor.map(workOnItemThatFails, [1])) {
    console.log(result);
  }
}

// Report the escaping error the way an uncaught one would look, but let the program end with exit code 0.
try {
  await main();
} catch (error) {
  console.error(error);
}

// Shows a task that catches its own error and signals the failure through the value it returns.
import process from "node:process";
import { type BackendKind, ProcessPoolExecutor } from "../mod.ts";
import { workThatRecovers } from "./tasks.ts";

const backend = (process.env.PROCPOOL_BACKEND ?? "auto") as BackendKind;

async function main(): Promise<void> {
  await using executor = new ProcessPoolExecutor({ module: new URL("./tasks.ts", import.meta.url), backend });
  // The task never fails from the caller's point of view: it returns a message describing its failure.
  const future = executor.submit(workThatRecovers);
  const result = await future.result();
  console.log(result);
}

await main();

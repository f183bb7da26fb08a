// Shows that a done-callback which throws is only logged: the next callback still runs and the result is intact.
import process from "node:process";
import { type BackendKind, type Future, ProcessPoolExecutor } from "../mod.ts";
import { workThatSucceeds } from "./tasks.ts";

const backend = (process.env.PROCPOOL_BACKEND ?? "auto") as BackendKind;

// Callbacks run in the parent, so they live here rather than in the task module.
function firstCallback(_future: Future<string>): void {
  throw new Error("Something bad happened!");
}

function secondCallback(_future: Future<string>): void {
  console.log("Callback 2 called.");
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<void> {
  await using executor = new ProcessPoolExecutor({ module: new URL("./tasks.ts", import.meta.url), backend });
  const future = executor.submit(workThatSucceeds);
  // Registration order is call order: the failing callback first, then the one that prints.
  future.addDoneCallback(firstCallback);
  future.addDoneCallback(secondCallback);
  const result = await future.result();
  // Give the callbacks a moment, as the original does (here they have already run by the time result() settles).
  await pause(50);
  console.log(result);
}

await main();

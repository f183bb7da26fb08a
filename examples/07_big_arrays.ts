// Shows big numeric data going to workers: a copy by default, moved with transfer(), shared when it lives in a
// SharedArrayBuffer (threads only: a child process gets a copy).
import process from "node:process";
import { type BackendKind, ProcessPoolExecutor, transfer } from "../mod.ts";
import { fill, squares, sum } from "./arrays.ts";

const backend = (process.env.PROCPOOL_BACKEND ?? "auto") as BackendKind;

async function main(): Promise<void> {
  await using executor = new ProcessPoolExecutor({ module: new URL("./arrays.ts", import.meta.url), backend });
  const values = await executor.submit(squares, 1_000_000); // returned with transfer(): moved back where it can be
  console.log(`got ${values.length} squares, the last ${values.at(-1)}`);
  console.log(`sum of a copy: ${await executor.submit(sum, values)}`);
  const moved = executor.submit(sum, transfer(values));
  console.log(`after submit(sum, transfer(values)): ${values.length} elements left here`);
  console.log(`sum of the moved array: ${await moved}`);
  const shared = new Int32Array(new SharedArrayBuffer(16));
  await executor.submit(fill, shared, 7);
  console.log(`shared memory after fill(shared, 7): ${shared.join(",")}`);
}

await main();

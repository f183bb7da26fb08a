// Not a task module: a program that out_of_memory.test.ts runs under `node --max-old-space-size=64`, so that a
// task that allocates without bound runs out of memory. Usage: node --import tsx r8_oom_main.ts <backend>
// Prints one JSON line on stdout: how the future failed, and whether the pool still answers afterwards.

import process from "node:process";
import { ProcessPoolExecutor } from "../../mod.ts";

const backend = process.argv[2] as "process" | "worker";
const pool = new ProcessPoolExecutor({ module: new URL("./r8_oom.ts", import.meta.url), maxWorkers: 1, backend });
const error = await pool.submit("hog").exception() as Error & { cause?: { message?: string } };
let submitAfter = "accepted";
try {
  pool.submit("hog");
} catch (e) {
  submitAfter = (e as Error).name;
}
await pool.shutdown();
process.stdout.write(
  `${JSON.stringify({ name: error?.name, cause: error?.cause?.message, submitAfter, parentAlive: true })}\n`,
);

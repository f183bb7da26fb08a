// Not a task module: a small program that initializer.test.ts runs as a child process, so that it can read what
// a pool whose initializer fails writes to stderr. Usage: <runtime> r1_stderr_main.ts <backend> <initializer>
// Prints one JSON line on stdout: how the submitted future failed.

import process from "node:process";
import { ProcessPoolExecutor } from "../../mod.ts";

const backend = process.argv[2] as "process" | "worker";
const initializer = process.argv[3] ?? "failingInit";
const initArgs = initializer === "failingInit" ? ["error in initializer"] : [100, "error in initializer"];

const pool = new ProcessPoolExecutor({
  module: new URL("./r1_init.ts", import.meta.url),
  maxWorkers: 1,
  backend,
  initializer,
  initArgs,
});
const error = await pool.submit("double", 1).exception() as Error | undefined;
await pool.shutdown();
process.stdout.write(`${JSON.stringify({ name: error?.name, message: error?.message })}\n`);

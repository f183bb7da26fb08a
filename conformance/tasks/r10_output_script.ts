// Runs a task that prints, and a pool whose initializer fails, so that values.test.ts can check that the
// workers' stdout and stderr reach this program's (R10.2). Run as `<runtime> r10_output_script.ts <backend> <tag>`.

import process from "node:process";
import { BrokenProcessPool, ProcessPoolExecutor } from "../../mod.ts";
import * as tasks from "./r10_values.ts";

const [backend, tag] = process.argv.slice(2) as ["process" | "worker", string];
const module = new URL("./r10_values.ts", import.meta.url);

const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
console.log(`parent got ${await pool.submit(tasks.speak, tag)}`);
await pool.shutdown();

const broken = new ProcessPoolExecutor({
  module,
  maxWorkers: 1,
  backend,
  initializer: tasks.failingInit,
  initArgs: [tag],
});
try {
  await broken.submit(tasks.identity, 1);
  console.log("parent: the broken pool ran a task");
} catch (error) {
  console.log(`parent: ${error instanceof BrokenProcessPool ? "BrokenProcessPool" : String(error)}`);
}
await broken.shutdown();
console.log("parent done");

// A program that uses a pool and forgets to shut it down (R7.7): it must still end by itself, but only once its
// last task, which nothing awaits, is done. Run by shutdown.test.ts as `<runtime> r7_forgetful_script.ts
// <backend>`; prints the tasks' results.

import { ProcessPoolExecutor } from "../../mod.ts";
import process from "node:process";
import * as tasks from "./r7_shutdown.ts";

const backend = process.argv[2] as "process" | "worker";
const pool = new ProcessPoolExecutor({ module: new URL("./r7_shutdown.ts", import.meta.url), maxWorkers: 2, backend });
const [a, b] = await Promise.all([pool.submit(tasks.double, 21), pool.submit(tasks.nap, 100, "napped")]);
console.log(`result ${a} ${b} ${await pool.submit(tasks.whoami)}`);
// Nothing awaits this task: while it runs, the pool alone keeps the process alive, until its callback has run.
pool.submit(tasks.nap, 200, "late").addDoneCallback((future) => {
  void future.result().then((value) => console.log(`callback saw ${value}`));
});
// no shutdown: the idle pool must not keep the process alive

// A program that uses a pool and forgets to shut it down (R7.7): it must still end by itself. Run by
// shutdown.test.ts as `<runtime> r7_forgetful_script.ts <backend>`; prints the task's result.

import { ProcessPoolExecutor } from "../../mod.ts";
import process from "node:process";
import * as tasks from "./r7_shutdown.ts";

const backend = process.argv[2] as "process" | "worker";
const pool = new ProcessPoolExecutor({ module: new URL("./r7_shutdown.ts", import.meta.url), maxWorkers: 2, backend });
const [a, b] = await Promise.all([pool.submit(tasks.double, 21), pool.submit(tasks.nap, 100, "napped")]);
console.log(`result ${a} ${b} ${await pool.submit(tasks.whoami)}`);
// no shutdown: the idle pool must not keep the process alive

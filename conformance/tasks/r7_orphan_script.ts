// A program whose workers keep beating until it is killed (R7.6): shutdown.test.ts kills it with SIGKILL and
// checks that the workers' heartbeat files stop growing. Run as `<runtime> r7_orphan_script.ts <backend> <dir>`;
// prints "ready <worker ids>" once every worker beats.

import { ProcessPoolExecutor } from "../../mod.ts";
import { join } from "node:path";
import process from "node:process";
import * as tasks from "./r7_shutdown.ts";

const [backend, dir] = process.argv.slice(2) as ["process" | "worker", string];
const pool = new ProcessPoolExecutor({ module: new URL("./r7_shutdown.ts", import.meta.url), maxWorkers: 2, backend });
const ids = await Promise.all([0, 1, 2, 3].map((i) => pool.submit(tasks.heartbeat, join(dir, `beat${i}`))));
console.log(`ready ${[...new Set(ids)].join(" ")}`);
await pool.submit(tasks.nap, 60_000, "never"); // keeps the program busy until it is killed

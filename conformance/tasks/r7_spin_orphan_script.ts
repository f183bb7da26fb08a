// A program whose one process worker spins in a synchronous task until the program is killed (R7.6):
// orphan.test.ts kills it with SIGKILL and checks that the worker dies too. Run as
// `<runtime> r7_spin_orphan_script.ts <pid file> [restricted]`; prints "spinning <worker pid>" once the task runs.
// "restricted" gives a Deno worker no permission but writing the pid file (Node and Bun ignore the option).

import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { ProcessPoolExecutor } from "../../mod.ts";
import * as tasks from "./r7_spin.ts";

const LIFETIME_MS = 60_000;

const [pidFile, permissions] = process.argv.slice(2);
const pool = new ProcessPoolExecutor({
  module: new URL("./r7_spin.ts", import.meta.url),
  maxWorkers: 1,
  backend: "process",
  denoPermissions: permissions === "restricted" ? { write: [pidFile] } : "inherit",
});
// The task never returns a result while it spins; it tells its pid through the file instead.
pool.submit(tasks.spin, pidFile, LIFETIME_MS).exception().then((error) => {
  console.error(`the task ended: ${error}`);
  process.exit(1);
});
const poll = setInterval(() => {
  const text = existsSync(pidFile) ? readFileSync(pidFile, "utf8") : "";
  if (text === "") return;
  clearInterval(poll);
  console.log(`spinning ${text}`);
}, 10);
// Lives until it is killed; a test that never kills it still sees it go (and its exit hook kill the worker).
setTimeout(() => process.exit(1), LIFETIME_MS);

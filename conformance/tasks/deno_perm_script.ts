// A Deno program with a pool whose workers get restricted permissions: run by deno_permissions.test.ts as
// `deno run <flags> deno_perm_script.ts <backend> <denoPermissions as JSON>`. Prints one JSON line: the workers'
// permission states, and what reading HOME did in a worker (its value, or the error's name).

import { type DenoPermissions, ProcessPoolExecutor } from "../../mod.ts";
import process from "node:process";
import * as tasks from "./deno_perm.ts";

const [backend, permissions] = process.argv.slice(2) as ["process" | "worker", string];
const pool = new ProcessPoolExecutor({
  module: new URL("./deno_perm.ts", import.meta.url),
  maxWorkers: 1,
  backend,
  denoPermissions: JSON.parse(permissions) as DenoPermissions,
});
const states = await pool.submit(tasks.permissionStates);
let env: { value?: string; error?: string; message?: string };
try {
  env = { value: await pool.submit(tasks.readEnv, "HOME").result() };
} catch (error) {
  env = { error: (error as Error).name, message: (error as Error).message };
}
await pool.shutdown();
console.log(JSON.stringify({ states, env }));

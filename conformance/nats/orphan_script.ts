// A parent that starts a remote task and then waits forever: the test kills it, and its agent must stop the worker.
// Arguments: the server URL and the pool name. Prints the worker's pid once its long task runs.

import process from "node:process";
import { ProcessPoolExecutor } from "../../mod.ts";
import { natsBackend } from "../../nats.ts";

const [servers, pool] = process.argv.slice(2);
const executor = new ProcessPoolExecutor({
  module: new URL("../tasks/basic.ts", import.meta.url).href,
  backend: natsBackend({ servers, pool }),
  maxWorkers: 1,
});
const pid = await executor.submit("pid").result();
executor.submit("slowDouble", 1, 60_000);
console.log(`worker pid ${pid}`);
setInterval(() => {}, 1000);

// A script that uses a NATS pool and never shuts it down: it must still end (R7.7), and its agent's workers stop.
// Arguments: the server URL and the pool name.

import process from "node:process";
import { ProcessPoolExecutor } from "../../mod.ts";
import { natsBackend } from "../../nats.ts";

const [servers, pool] = process.argv.slice(2);
const executor = new ProcessPoolExecutor({
  module: new URL("../tasks/basic.ts", import.meta.url).href,
  backend: natsBackend({ servers, pool }),
  maxWorkers: 2,
});
const results = await Promise.all([1, 2, 3].map((x) => executor.submit("double", x).result()));
console.log(`results ${results.join(",")}`);

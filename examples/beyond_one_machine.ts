// Workers on other hosts: the same pool, its workers started by procpool agents through a NATS server. Try it on
// one host (README, "Beyond one machine"): start nats-server, start two agents, then run this program.
//   node --import tsx examples/beyond_one_machine.ts     (or deno run -A …, bun …)
import process from "node:process";
import { ProcessPoolExecutor } from "../mod.ts";
import { natsBackend } from "../nats.ts";

const servers = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

await using pool = new ProcessPoolExecutor({
  module: new URL("./by_runtime/primes.js", import.meta.url),
  maxWorkers: 4,
  // An agent's first workers can take seconds to start on a busy host: wait up to 30 s for one (10 s by default).
  backend: natsBackend({ servers, pool: "demo", spawnTimeoutMs: 30_000 }),
});

// [from, to) ranges of 125,000 numbers each: sixteen tasks for the agents' workers.
const ranges = Array.from({ length: 16 }, (_, i) => [i * 125_000, (i + 1) * 125_000]);
let total = 0;
for await (const count of pool.starmap("countPrimes", ranges)) total += count as number;
console.log(`${total} primes below 2000000, counted by the agents' workers`);

try {
  await pool.submit("countPrimes", 10, 5).result();
} catch (error) {
  console.log(`a task error crosses the network with its class and stack: ${(error as Error).stack}`);
}

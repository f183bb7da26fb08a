// A Node program in plain JavaScript: no TypeScript loader, procpool from the npm package (`npm i
// @procpool/procpool`; in this repository the package itself, built by `npm run build`).
//   node examples/by_runtime/node.mjs 200000
import process from "node:process";
import { ProcessPoolExecutor } from "@procpool/procpool";
import { ranges } from "./ranges.js";

const limit = Number(process.argv[2] ?? 200_000);
const backend = process.env.PROCPOOL_BACKEND ?? "auto";

const pool = new ProcessPoolExecutor({ module: new URL("./primes.js", import.meta.url), maxWorkers: 2, backend });
try {
  let total = 0;
  for await (const count of pool.starmap("countPrimes", ranges(limit, 8))) total += count;
  console.log(`node: ${total} primes below ${limit}`);

  const bad = pool.submit("countPrimes", 10, 5);
  bad.addDoneCallback(() => {
    throw new Error("this callback fails, and is only logged");
  });
  bad.addDoneCallback((future) => console.log(`node: the next callback still runs (${future})`));
  try {
    await bad.result();
  } catch (error) {
    console.log(`node: the task failed: ${error}`);
  }
} finally {
  await pool.shutdown();
}

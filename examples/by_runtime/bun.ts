// A Bun script: procpool from the package (`bun add @procpool/procpool`; in this repository the package itself,
// built by `npm run build`), settings from Bun.argv and Bun.env, timing with Bun.nanoseconds().
//   bun examples/by_runtime/bun.ts 200000
import { type BackendKind, ProcessPoolExecutor } from "@procpool/procpool";
import { ranges } from "./ranges.js";

const limit = Number(Bun.argv[2] ?? 200_000);
const backend = (Bun.env.PROCPOOL_BACKEND ?? "auto") as BackendKind;

await using pool = new ProcessPoolExecutor({ module: new URL("./primes.js", import.meta.url), maxWorkers: 2, backend });

const started = Bun.nanoseconds();
let total = 0;
for await (const count of pool.starmap("countPrimes", ranges(limit, 8))) total += count as number;
console.log(`bun: ${total} primes below ${limit}`);
console.error(`(${((Bun.nanoseconds() - started) / 1e6).toFixed(0)} ms)`);

const bad = pool.submit("countPrimes", 10, 5);
bad.addDoneCallback(() => {
  throw new Error("this callback fails, and is only logged");
});
bad.addDoneCallback((future) => console.log(`bun: the next callback still runs (${future})`));
try {
  await bad.result();
} catch (error) {
  console.log(`bun: the task failed: ${error}`);
}

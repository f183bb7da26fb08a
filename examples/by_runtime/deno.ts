// A Deno script: procpool comes from JSR by its `jsr:` specifier (in this repository, import_map.json points it
// at the sources), settings from Deno.args and Deno.env, the pool closed by `await using`.
//   deno run -A --import-map examples/by_runtime/import_map.json examples/by_runtime/deno.ts 200000
// deno-lint-ignore no-import-prefix -- the point of this example: the specifier a Deno user writes
import { type BackendKind, ProcessPoolExecutor } from "jsr:@procpool/procpool@^0.2.0";
import { ranges } from "./ranges.js";

const limit = Number(Deno.args[0] ?? 200_000);
const backend = (Deno.env.get("PROCPOOL_BACKEND") ?? "auto") as BackendKind;

await using pool = new ProcessPoolExecutor({ module: new URL("./primes.js", import.meta.url), maxWorkers: 2, backend });

let total = 0;
for await (const count of pool.starmap("countPrimes", ranges(limit, 8))) total += count as number;
console.log(`deno: ${total} primes below ${limit}`);

const bad = pool.submit("countPrimes", 10, 5);
bad.addDoneCallback(() => {
  throw new Error("this callback fails, and is only logged");
});
bad.addDoneCallback((future) => console.log(`deno: the next callback still runs (${future})`));
try {
  await bad.result();
} catch (error) {
  console.log(`deno: the task failed: ${error}`);
}

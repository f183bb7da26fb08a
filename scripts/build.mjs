// `npm run build`: compiles the TypeScript sources to ESM JavaScript with declarations in dist/, for the npm
// package. Deno and JSR use the sources; Node without a TypeScript loader, and anyone installing from npm, use this.
import { spawnSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
// Run by `npm run build`, which puts node_modules/.bin (the pinned tsc) first on the PATH.
const tsc = spawnSync("tsc", ["-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
// The one source file that is JavaScript already: a Node thread's bootstrap, which tsc does not copy.
copyFileSync(
  new URL("../src/runtime/thread_entry.mjs", import.meta.url),
  new URL("../dist/src/runtime/thread_entry.mjs", import.meta.url),
);

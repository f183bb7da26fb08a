// Imported by every test file. Deno's node:test lets an exception thrown outside a test's own promise chain (in a
// timer or an event handler) pass unnoticed: the test it happened in still reports ok, where Node and Bun fail it.
// On Deno this module makes such an exception end the run with exit code 1, after printing it, unless something
// else listens for it (the property harness records them as observations).

import process from "node:process";

const deno = (globalThis as { Deno?: { exit(code: number): never } }).Deno;
if (deno !== undefined) {
  const guard = (error: unknown) => {
    if (process.listenerCount("uncaughtException") > 1) return;
    console.error("procpool tests: an uncaught exception during a test (Deno's node:test would pass it):", error);
    deno.exit(1);
  };
  process.on("uncaughtException", guard);
}

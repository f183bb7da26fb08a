// R8.5: a worker that runs out of memory. Node only: it is the runtime whose workers can be given a small heap
// (a child process inherits --max-old-space-size; a thread reports ERR_WORKER_OUT_OF_MEMORY). Deno and Bun
// need no run here to know the answer the README gives: their process backend loses only the child, and a
// thread that runs out of memory takes their whole process down.

import "../src/_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { backends, runtime } from "./_backends.ts";

const script = fileURLToPath(new URL("./tasks/r8_oom_main.ts", import.meta.url));

describe(`R8.5 out of memory (${runtime})`, () => {
  if (runtime !== "node") {
    it(`R8.5 is checked on Node only; ${runtime} is documented in the README's support table`, () => {
      assert.notEqual(runtime, "node");
    });
    return;
  }
  for (const backend of backends) {
    it(`R8.5 a ${backend} worker that runs out of memory breaks the pool, and the parent survives`, {
      timeout: 60_000,
    }, () => {
      const out = execFileSync(process.execPath, ["--max-old-space-size=64", "--import", "tsx", script, backend], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        timeout: 55_000,
      });
      const report = JSON.parse(out.trim().split("\n").at(-1)!);
      assert.equal(report.name, "BrokenProcessPool");
      assert.equal(report.submitAfter, "BrokenProcessPool");
      assert.equal(report.parentAlive, true);
      assert.match(report.cause, backend === "process" ? /killed by SIG|exited with code/ : /exited with code/);
    });
  }
});

// procpool imported by URL, as a Deno program gets it from JSR (`jsr:` and `https:` modules have https: URLs):
// its worker entries are then remote modules too, which each backend must start from. A local HTTP server serves
// this repository; a Deno program imports mod.ts from it and runs a task on each backend. Deno only: Node and Bun
// import packages from files.

import "../src/_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtime } from "./_backends.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const PROGRAM = (base: string) => `
import { ProcessPoolExecutor } from "${base}/mod.ts";
for (const backend of ["worker", "process"]) {
  const pool = new ProcessPoolExecutor({ module: new URL("./tasks.ts", import.meta.url), maxWorkers: 1, backend });
  try {
    console.log(backend, await pool.submit("square", 7).result());
  } catch (error) {
    console.log(backend, "failed:", String(error), String(error.cause));
  } finally {
    await pool.shutdown();
  }
}
`;

if (runtime === "deno") {
  describe("procpool imported by URL (Deno, as from JSR)", () => {
    it("runs tasks on both backends when its own modules have https: URLs", { timeout: 120_000 }, async () => {
      const server = createServer(async (request, response) => {
        const path = join(ROOT, decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname));
        try {
          const body = await readFile(path);
          const type = path.endsWith(".ts") ? "application/typescript" : "application/javascript";
          response.writeHead(200, { "content-type": type }).end(body);
        } catch {
          response.writeHead(404).end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const dir = mkdtempSync(join(tmpdir(), "procpool-remote-"));
      try {
        writeFileSync(join(dir, "tasks.ts"), "export function square(x: number): number { return x * x; }\n");
        writeFileSync(join(dir, "main.ts"), PROGRAM(base));
        // A cache of its own, so that every module really comes over HTTP.
        const env = { ...process.env, DENO_DIR: join(dir, "cache"), NO_COLOR: "1" };
        const child = spawn(process.execPath, ["run", "-A", "main.ts"], { cwd: dir, env });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => (stdout += chunk));
        child.stderr.on("data", (chunk) => (stderr += chunk));
        const code = await new Promise((resolve) => child.on("close", resolve));
        assert.equal(code, 0, stderr);
        assert.deepEqual(stdout.trim().split("\n"), ["worker 49", "process 49"], stderr);
      } finally {
        server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

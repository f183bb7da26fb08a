// The `denoPermissions` option: what a Deno pool's workers may do, on both Deno backends (a `deno run` child with
// permission flags; a Web Worker with `deno.permissions`, or a node:worker_threads thread for "inherit"). Deno
// itself runs these checks, whichever runtime runs the tests: each case is a Deno program, deno_perm_script.ts.
// On Node and Bun the option is accepted, checked, and ignored.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { describe, it } from "node:test";
import { type DenoPermissions, ProcessPoolExecutor } from "../mod.ts";
import { backends, runtime, taskModule } from "./_backends.ts";
import { repoRoot } from "./_scripts.ts";
import * as tasks from "./tasks/deno_perm.ts";

const LONG = { timeout: 60_000 };
const DENO = runtime === "deno" ? process.execPath : join(repoRoot, "node_modules", ".bin", "deno");
const GRANTED = "granted";

interface Report {
  readonly states: Record<string, string>;
  readonly env: { readonly value?: string; readonly error?: string };
}

// Runs deno_perm_script.ts under Deno with the parent's `flags`; returns what it printed.
function runDeno(flags: string[], backend: string, permissions: DenoPermissions): Promise<Report> {
  const script = join("conformance", "tasks", "deno_perm_script.ts");
  const args = ["run", ...flags, script, backend, JSON.stringify(permissions)];
  const child = spawn(DENO, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
  return new Promise((resolve, reject) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").at(-1) ?? "";
      if (code !== 0 || !line.startsWith("{")) {
        return reject(new Error(`deno ${args.join(" ")} exited with ${code}\nstdout: ${stdout}\nstderr: ${stderr}`));
      }
      resolve(JSON.parse(line) as Report);
    });
  });
}

function granted(report: Report): string[] {
  return Object.entries(report.states).filter(([, state]) => state === GRANTED).map(([name]) => name).sort();
}

const ALL = ["env", "net", "read", "run", "sys", "write"];

describe(`Deno permissions for workers (run by deno, from ${runtime})`, () => {
  for (const backend of ["process", "worker"]) {
    // A restricted thread is a Deno Web Worker, which Deno allows only with --unstable-worker-options.
    const parentFlags = ["-A", ...(backend === "worker" ? ["--unstable-worker-options"] : [])];

    it(
      `denoPermissions "none" (${backend}): the worker holds no permission, and Deno refuses what needs one`,
      LONG,
      async () => {
        const report = await runDeno(parentFlags, backend, "none");
        assert.deepEqual(granted(report), []);
        assert.equal(report.env.error, "NotCapable", `reading HOME: ${JSON.stringify(report.env)}`);
      },
    );

    it(`denoPermissions { env: true } (${backend}): the worker holds env and nothing else`, LONG, async () => {
      const report = await runDeno(parentFlags, backend, { env: true });
      assert.deepEqual(granted(report), ["env"]);
      assert.equal(report.env.value, process.env.HOME);
    });

    it(`denoPermissions "inherit" (${backend}) under -A: the worker holds every permission`, LONG, async () => {
      const report = await runDeno(parentFlags, backend, "inherit");
      assert.deepEqual(granted(report), ALL);
    });
  }

  it(`denoPermissions "inherit" (process) passes on exactly what the parent holds`, LONG, async () => {
    const report = await runDeno(["--allow-read", "--allow-env", "--allow-run"], "process", "inherit");
    assert.deepEqual(granted(report), ["env", "read", "run"]);
  });
});

describe(`denoPermissions on ${runtime}: checked, and ignored off Deno`, () => {
  it("an unknown permission kind or a bad value is a TypeError from the constructor", () => {
    const module = taskModule("deno_perm.ts");
    assert.throws(
      () => new ProcessPoolExecutor({ module, denoPermissions: { hrtime: true } as unknown as DenoPermissions }),
      { name: "TypeError", message: /unknown Deno permission "hrtime"/ },
    );
    assert.throws(
      () => new ProcessPoolExecutor({ module, denoPermissions: { env: 1 } as unknown as DenoPermissions }),
      { name: "TypeError", message: /denoPermissions\.env must be a boolean, "inherit" or a list of strings/ },
    );
  });

  if (runtime !== "deno") {
    for (const backend of backends) {
      it(
        `${backend}: a pool with denoPermissions "none" runs its tasks as any other (${runtime} has none)`,
        LONG,
        async () => {
          const pool = new ProcessPoolExecutor({
            module: taskModule("deno_perm.ts"),
            backend,
            denoPermissions: "none",
          });
          try {
            assert.deepEqual(await pool.submit(tasks.permissionStates), {});
            await assert.rejects(pool.submit(tasks.readEnv, "HOME").result(), { message: "not on Deno" });
          } finally {
            await pool.shutdown();
          }
        },
      );
    }
  }
});

// The npm package as a user gets it: `npm pack`, installed from the tarball into a fresh project outside this
// repository (no tsx, no TypeScript, no node_modules of ours above it), then a plain-JavaScript program with a
// JavaScript task module run by the runtime this test runs under, on each of its backends; and the package's agent
// with a parent on its NATS backend, against a real nats-server.

import "./_test_guard.ts";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { currentRuntime } from "./runtime/detect.ts";
import { agentReady, signal, startNatsServer } from "../conformance/_nats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const child = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 120_000 });
  if (child.error) throw child.error;
  return child;
}

// Like run(), without blocking this process's event loop (which serves the other processes it started).
function runAsync(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => stdout += chunk);
  child.stderr!.on("data", (chunk) => stderr += chunk);
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function ok(child: SpawnSyncReturns<string>, what: string): string {
  assert.equal(child.status, 0, `${what} failed (${child.status}):\n${child.stdout}\n${child.stderr}`);
  return child.stdout;
}

const TASKS = `
import process from "node:process";
export function square(x) { return x * x; }
export function fail(x) {
  const error = new RangeError("no square for " + x);
  error.code = "E_NEG";
  throw error;
}
export function brokenInit() { throw new Error("the initializer failed"); }
export function pid() { return process.pid; }
`;

// Prints one JSON line per backend: what a user observes of a task, a failing task, a failing callback and a
// failing initializer.
const MAIN = `
import { BrokenProcessPool, ProcessPoolExecutor } from "@procpool/procpool";

const module = new URL("./tasks.js", import.meta.url);
for (const backend of ["process", "worker"]) {
  const seen = { backend };
  const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
  seen.squares = await Promise.all([1, 2, 3].map((x) => pool.submit("square", x).result()));
  const failed = pool.submit("fail", -1);
  try {
    await failed.result();
  } catch (error) {
    seen.error = { name: error.name, message: error.message, code: error.code, remote: /tasks\\.js/.test(error.stack) };
  }
  seen.callbacks = [];
  failed.addDoneCallback(() => { throw new Error("callback " + backend + " failed"); });
  failed.addDoneCallback(() => seen.callbacks.push("second ran"));
  await pool.shutdown();

  const broken = new ProcessPoolExecutor({ module, maxWorkers: 1, backend, initializer: "brokenInit" });
  try {
    await broken.submit("square", 2).result();
  } catch (error) {
    seen.initializer = error instanceof BrokenProcessPool ? error.name : String(error);
  }
  try {
    broken.submit("square", 3);
  } catch (error) {
    seen.laterSubmit = error instanceof BrokenProcessPool;
  }
  await broken.shutdown();
  console.log(JSON.stringify(seen));
}
`;

// A parent of remote workers: the NATS backend from the package's "./nats" export, with the agent started from the
// package's dist/agent.js. Prints one JSON line: what the user observes, and which processes ran the tasks.
const NATS_MAIN = `
import process from "node:process";
import { ProcessPoolExecutor } from "@procpool/procpool";
import { natsBackend } from "@procpool/procpool/nats";

const [servers, pool] = process.argv.slice(-2);
const executor = new ProcessPoolExecutor({
  module: new URL("./tasks.js", import.meta.url),
  maxWorkers: 2,
  backend: natsBackend({ servers, pool }),
});
const seen = {};
try {
  seen.squares = await Promise.all([1, 2, 3].map((x) => executor.submit("square", x).result(30000)));
  try {
    await executor.submit("fail", -1).result(30000);
  } catch (error) {
    seen.error = { name: error.name, message: error.message, code: error.code };
  }
  seen.pids = await Promise.all([1, 2, 3, 4].map(() => executor.submit("pid").result(30000)));
} finally {
  await executor.shutdown();
}
console.log(JSON.stringify(seen));
`;

// The optional peer dependency the NATS backend and the agent need, installed into the project without the
// registry: from npm's cache where it holds what an install asks for, else copied from this repository's
// node_modules (after `npm ci` the cache may hold the package's tarballs but not the metadata an install reads
// first, since the lockfile records no tarball URLs).
const NATS_PACKAGES = [
  "@nats-io/transport-node",
  "@nats-io/nats-core",
  "@nats-io/nkeys",
  "@nats-io/nuid",
  "tweetnacl",
];

function installNatsClient(app: string): void {
  const offline = run(NPM, ["install", "--offline", "--no-audit", "--no-fund", "@nats-io/transport-node@3.3.1"], app);
  if (offline.status === 0) return;
  for (const name of NATS_PACKAGES) {
    cpSync(join(ROOT, "node_modules", name), join(app, "node_modules", name), { recursive: true, dereference: true });
  }
}

// The command that runs a JavaScript file with this runtime.
function jsCommand(file: string, args: string[]): string[] {
  return currentRuntime() === "deno" ? ["run", "-A", file, ...args] : [file, ...args];
}

// A CommonJS user: require() of the package (its module graph has no top-level await).
const REQUIRE = `
const { ProcessPoolExecutor } = require("@procpool/procpool");
const pool = new ProcessPoolExecutor({ module: require("node:url").pathToFileURL(__dirname + "/tasks.js"), maxWorkers: 1 });
pool.submit("square", 6).result().then((v) => console.log("cjs", v)).finally(() => pool.shutdown());
`;

// A TypeScript user of the package: the declarations must resolve through the "types" condition.
const TYPED = `
import { type Future, ProcessPoolExecutor, transfer } from "@procpool/procpool";

const pool = new ProcessPoolExecutor({ module: new URL("./tasks.js", import.meta.url), maxWorkers: 1 });
const future: Future<unknown> = pool.submit("square", 2);
const moved: Uint8Array = transfer(new Uint8Array(4));
export { future, moved };
`;

const TYPED_TASKS = `
interface Point { x: number; y: number }
export function norm(p: Point): number { return Math.hypot(p.x, p.y); }
`;

const TYPED_MAIN = `
import { ProcessPoolExecutor } from "@procpool/procpool";
for (const backend of ["process", "worker"]) {
  const pool = new ProcessPoolExecutor({ module: new URL("./typed_tasks.ts", import.meta.url), maxWorkers: 1, backend });
  try {
    console.log(backend, await pool.submit("norm", { x: 3, y: 4 }).result());
  } finally {
    await pool.shutdown();
  }
}
`;

function hasTypeStripping(): boolean {
  return Boolean((process as { features: { typescript?: unknown } }).features.typescript);
}

// A Node that strips types: this one if it does, else Node 24 from the npm registry's per-platform binary
// packages (what the `node` package installs), unpacked once into node_modules/.cache.
function strippingNode(): string {
  if (hasTypeStripping()) return process.execPath;
  const name = `node-${process.platform}-${process.arch}`;
  const cache = fileURLToPath(
    new URL(`../node_modules/.cache/procpool/${name}-${NODE_WITH_STRIPPING}`, import.meta.url),
  );
  const binary = join(cache, "package", "bin", "node");
  if (!existsSync(binary)) {
    mkdirSync(cache, { recursive: true });
    ok(
      run(NPM, ["pack", "--silent", `${name}@${NODE_WITH_STRIPPING}`], cache),
      `npm pack ${name} (a Node that strips types)`,
    );
    ok(run("tar", ["xzf", `${name}-${NODE_WITH_STRIPPING}.tgz`], cache), "tar");
    rmSync(join(cache, `${name}-${NODE_WITH_STRIPPING}.tgz`));
  }
  return binary;
}

const NODE_WITH_STRIPPING = "24.22.3";

const NATS = { timeout: 90_000 };

describe("npm package", () => {
  let dir = "";
  let app = "";

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "procpool-pack-"));
    // `npm pack` builds dist/ first (prepack).
    ok(run(NPM, ["pack", "--silent", "--pack-destination", dir], ROOT), "npm pack");
    const [tarball] = readdirSync(dir).filter((name) => name.endsWith(".tgz"));
    assert.ok(tarball, "npm pack wrote no tarball");
    app = join(dir, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    // Offline: procpool has no runtime dependencies, so nothing may need the registry.
    ok(run(NPM, ["install", "--offline", "--no-audit", "--no-fund", join(dir, tarball)], app), "npm install");
    writeFileSync(join(app, "tasks.js"), TASKS);
    writeFileSync(join(app, "main.js"), MAIN);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("holds the compiled JavaScript, its declarations and the worker entries, and no TypeScript source", () => {
    const packed = JSON.parse(ok(run(NPM, ["pack", "--dry-run", "--json", "--ignore-scripts"], ROOT), "npm pack"));
    const files: string[] = packed[0].files.map((file: { path: string }) => file.path);
    for (
      const needed of [
        "package.json",
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "dist/mod.js",
        "dist/mod.d.ts",
        "dist/src/runtime/child_entry.js",
        "dist/src/runtime/thread_entry.js",
        "dist/src/runtime/thread_entry.mjs",
        "dist/src/runtime/deno_worker_entry.js",
        "dist/nats.js",
        "dist/agent.js",
        "dist/src/nats/port_thread.js",
        "docs/rules.md",
      ]
    ) assert.ok(files.includes(needed), `${needed} is not in the package`);
    // Every relative link in the package's Markdown points at a file the package holds.
    for (const doc of files.filter((path) => path.endsWith(".md"))) {
      const text = readFileSync(join(ROOT, doc), "utf8");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target)) continue;
        const path = join(dirname(doc), target.split("#")[0]).replaceAll("\\", "/");
        assert.ok(files.includes(path), `${doc} links to ${target}, which the package does not hold`);
      }
    }
    const sources = files.filter((path) => path.endsWith(".ts") && !path.endsWith(".d.ts"));
    assert.deepEqual(sources, [], "TypeScript sources in the package");
    assert.deepEqual(files.filter((path) => /\.test\.|_test_utils/.test(path)), [], "tests in the package");
  });

  it(`runs a JavaScript program and task module on ${currentRuntime()}, every backend`, () => {
    const args = currentRuntime() === "deno" ? ["run", "-A", "main.js"] : ["main.js"];
    const child = run(process.execPath, args, app);
    const stdout = ok(child, "the program");
    const lines = stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((seen) => seen.backend), ["process", "worker"]);
    for (const seen of lines) {
      assert.deepEqual(seen, {
        backend: seen.backend,
        squares: [1, 4, 9],
        error: { name: "RangeError", message: "no square for -1", code: "E_NEG", remote: true },
        callbacks: ["second ran"],
        initializer: "BrokenProcessPool",
        laterSubmit: true,
      });
      assert.match(
        child.stderr,
        new RegExp(`exception calling callback for <Future[^]*callback ${seen.backend} failed`),
      );
    }
    const initializerLogs = child.stderr.split("Exception in initializer:").slice(1);
    assert.equal(initializerLogs.length, 2, child.stderr);
    // The worker ran the package's own entry, inside the installed package.
    for (const log of initializerLogs) {
      assert.match(log, /the initializer failed/);
      assert.match(log, /node_modules[\\/]@procpool[\\/]procpool[\\/]dist[\\/]src[\\/]worker_main\.js/);
    }
  });

  it(`runs the agent and the NATS backend from the package on ${currentRuntime()}, direct workers`, NATS, async () => {
    installNatsClient(app);
    writeFileSync(join(app, "nats_main.js"), NATS_MAIN);
    const server = await startNatsServer();
    const agentScript = join(app, "node_modules", "@procpool", "procpool", "dist", "agent.js");
    // Worker processes (not every runtime's default), which hold their own connections: the direct mode.
    const agentArgs = ["--servers", server.url, "--pool", "npm", "--workers", "2", "--backend", "process"];
    agentArgs.push("--allow-module", app);
    const agent = spawn(process.execPath, jsCommand(agentScript, agentArgs), {
      cwd: app,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const agentExit = new Promise<number | string | null>((resolve) =>
      agent.once("exit", (code, name) => resolve(code ?? name))
    );
    let agentErr = () => "";
    try {
      agentErr = (await agentReady(agent, 20_000)).log;
      assert.match(agentErr(), /direct mode/);
      const child = await runAsync(process.execPath, jsCommand("nats_main.js", [server.url, "npm"]), app);
      assert.equal(child.status, 0, `the NATS program failed (${child.status}):\n${child.stdout}\n${child.stderr}`);
      const seen = JSON.parse(child.stdout.trim());
      assert.deepEqual(seen.squares, [1, 4, 9]);
      assert.deepEqual(seen.error, { name: "RangeError", message: "no square for -1", code: "E_NEG" });
      const pids = [...new Set<number>(seen.pids)];
      assert.ok(pids.length >= 1 && pids.length <= 2, `worker pids ${seen.pids}`);
      for (const pid of pids) {
        assert.notEqual(pid, agent.pid);
        assert.match(agentErr(), new RegExp(`pid ${pid}, direct\\) started`));
      }
    } finally {
      // SIGTERM: the agent stops its workers, closes its connection and exits 0.
      if (agent.exitCode === null && agent.signalCode === null) signal(agent.pid!, "SIGTERM");
      const kill = setTimeout(() => signal(agent.pid!, "SIGKILL"), 10_000);
      const ended = await agentExit;
      clearTimeout(kill);
      await server.stop();
      assert.equal(ended, 0, `the agent ended with ${ended}:\n${agentErr()}`);
    }
  });

  // Declarations and Node's own TypeScript support are Node matters: checked once, from the Node run.
  if (currentRuntime() === "node") {
    it("can be loaded by require() from CommonJS, where Node can require ES modules", () => {
      writeFileSync(join(app, "main.cjs"), REQUIRE);
      const stdout = ok(run(process.execPath, ["main.cjs"], app), "a CommonJS program");
      assert.equal(stdout.trim(), "cjs 36");
    });

    it("runs a TypeScript task module on a Node that strips types, with no loader", () => {
      writeFileSync(join(app, "typed_tasks.ts"), TYPED_TASKS);
      writeFileSync(join(app, "typed_main.mjs"), TYPED_MAIN);
      const stdout = ok(run(strippingNode(), ["typed_main.mjs"], app), "the program on a Node that strips types");
      assert.deepEqual(stdout.trim().split("\n"), ["process 5", "worker 5"]);
    });

    // (On a Node that strips types there is nothing to tell.)
    if (!hasTypeStripping()) {
      it("tells a Node that cannot strip types, with no loader, what to do", () => {
        writeFileSync(join(app, "typed_tasks.ts"), TYPED_TASKS);
        writeFileSync(join(app, "typed_main.mjs"), TYPED_MAIN);
        const child = run(process.execPath, ["typed_main.mjs"], app);
        assert.notEqual(child.status, 0);
        assert.match(child.stderr, /TypeError: Cannot import the task module file:.*typed_tasks\.ts: this Node \(v\d+/);
        assert.match(child.stderr, /node --import tsx/);
      });
    }

    it("gives TypeScript users its declarations", () => {
      writeFileSync(join(app, "typed.ts"), TYPED);
      const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));
      const args = [tsc, "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext"];
      ok(run(process.execPath, [...args, "--target", "esnext", "--types", "", "typed.ts"], app), "tsc");
    });
  }
});

// R8 over the network: a worker, its agent (SIGKILL, SIGSTOP), the NATS server or the parent dies, and every side
// notices within about a second; every future settles, and the cause names the worker, the host and how.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { BrokenProcessPool, type Future, ProcessPoolExecutor } from "../mod.ts";
import { natsBackend } from "../nats.ts";
import { runtime, taskModule } from "./_backends.ts";
import {
  type AgentProcess,
  eventually,
  isAlive,
  type NatsServer,
  signal,
  startAgentProcess,
  startNatsServer,
  TASKS_DIR,
} from "./_nats.ts";
import { repoRoot, runtimeCommand } from "./_scripts.ts";
import * as basic from "./tasks/basic.ts";

const LONG = { timeout: 30_000 };
// The rule is "within about a second" (heartbeats every 250 ms, dead after 1 s); the bound leaves room for a
// loaded machine.
const DETECTED_WITHIN_MS = 3000;

let server: NatsServer;
const cleanups: (() => Promise<void>)[] = [];

function causes(error: unknown): string {
  const lines: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) lines.push(`${e.name}: ${e.message}`);
  return lines.join("\n  caused by ");
}

// Each fault runs against relaying agents (--relay) and against direct ones (the default).
const MODES = ["relay", "direct"] as const;
let mode: (typeof MODES)[number] = "relay";

async function agentFor(url: string, pool: string, workers = 2): Promise<AgentProcess> {
  const agent = await startAgentProcess(url, [
    "--pool",
    pool,
    "--workers",
    String(workers),
    "--backend",
    "process",
    "--allow-module",
    TASKS_DIR.href,
    ...(mode === "relay" ? ["--relay"] : []),
  ]);
  cleanups.push(() => agent.stop());
  return agent;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Submits long tasks to both workers of a fresh pool and returns once both run; `pids` are the workers' pids.
async function busyPool(url: string, pool: string) {
  const executor = new ProcessPoolExecutor({
    module: taskModule("basic.ts"),
    backend: natsBackend({ servers: url, pool }),
    maxWorkers: 2,
  });
  const pids = await Promise.all([
    executor.submit(basic.slowDouble, 0, 300).then(() => 0),
    executor.submit(basic.pid).result(),
    executor.submit(basic.pid).result(),
  ]);
  const futures: Future<unknown>[] = [
    executor.submit(basic.slowDouble, 1, 20_000),
    executor.submit(basic.slowDouble, 2, 20_000),
    executor.submit(basic.double, 3),
  ];
  await delay(200);
  return { executor, futures, pids: pids.slice(1) as number[] };
}

// Every future fails with BrokenProcessPool within the bound; returns the first one's error.
async function allBroken(futures: Future<unknown>[], since: number): Promise<Error> {
  let first: Error | undefined;
  for (const future of futures) {
    const error = await future.exception();
    assert.ok(error instanceof BrokenProcessPool, `expected BrokenProcessPool, got ${error}`);
    first ??= error;
  }
  const elapsed = Date.now() - since;
  assert.ok(elapsed < DETECTED_WITHIN_MS, `the pool broke after ${elapsed} ms`);
  return first!;
}

for (const each of MODES) {
  describe(`NATS backend: faults, ${each} agents (${runtime})`, () => {
    before(async () => {
      mode = each;
      server = await startNatsServer();
    });
    after(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
      await server?.stop();
    });

    it("R8 a remote worker that exits breaks the pool; the cause names worker, host and exit code", LONG, async () => {
      await agentFor(server.url, "exit");
      const executor = new ProcessPoolExecutor({
        module: taskModule("basic.ts"),
        backend: natsBackend({ servers: server.url, pool: "exit" }),
        maxWorkers: 1,
      });
      const error = await executor.submit(basic.exit, 3).exception();
      assert.ok(error instanceof BrokenProcessPool, String(error));
      assert.match(causes(error), /remote worker .* pid \d+ on host .* exited with code 3/);
      assert.throws(() => executor.submit(basic.double, 1), BrokenProcessPool);
      await executor.shutdown();
    });

    it("R8 kill -9 of an agent mid-task breaks the pool within about a second", LONG, async () => {
      const agent = await agentFor(server.url, "kill9");
      const { executor, futures, pids } = await busyPool(server.url, "kill9");
      const killed = Date.now();
      signal(agent.pid, "SIGKILL");
      const error = await allBroken(futures, killed);
      assert.match(causes(error), /agent \S+ on host \S+ \(pid \d+\) sent no heartbeat/);
      await executor.shutdown();
      // The agent's workers do not outlive it (their watchdog sees their parent gone).
      assert.ok(await eventually(() => pids.every((pid) => !isAlive(pid)), 5000), `workers ${pids} still alive`);
    });

    it("R8 a frozen agent (SIGSTOP) breaks the pool within about a second", LONG, async () => {
      const agent = await agentFor(server.url, "stop");
      const { executor, futures } = await busyPool(server.url, "stop");
      const stopped = Date.now();
      signal(agent.pid, "SIGSTOP");
      try {
        const error = await allBroken(futures, stopped);
        assert.match(causes(error), /sent no heartbeat .* killed, frozen or cut off/);
        await executor.shutdown();
      } finally {
        signal(agent.pid, "SIGCONT");
      }
      // Back, it reads the parent's kill for each worker it had: nothing it ran goes on unwatched.
      assert.ok(
        await eventually(() => (agent.log().match(/killed at the parent's request/g) ?? []).length >= 2, 5000),
        agent.log(),
      );
    });

    it("R8 the NATS server dying breaks the pool within about a second", LONG, async () => {
      const own = await startNatsServer();
      cleanups.push(() => own.stop(true));
      await agentFor(own.url, "server");
      const { executor, futures } = await busyPool(own.url, "server");
      const killed = Date.now();
      await own.stop(true);
      const error = await allBroken(futures, killed);
      assert.match(causes(error), /lost the NATS server/);
      await executor.shutdown();
    });

    it("a parent that is only busy (its event loop held for 2.5 s) keeps its remote workers", LONG, async () => {
      await agentFor(server.url, "busy", 1);
      await using executor = new ProcessPoolExecutor({
        module: taskModule("basic.ts"),
        backend: natsBackend({ servers: server.url, pool: "busy" }),
        maxWorkers: 1,
      });
      const pid = await executor.submit(basic.pid).result();
      const future = executor.submit(basic.slowDouble, 21, 500);
      const until = Date.now() + 2500;
      while (Date.now() < until) { /* holds the parent's event loop: no heartbeat, no answer to a ping */ }
      assert.equal(await future.result(), 42);
      assert.equal(await executor.submit(basic.pid).result(), pid, "the same worker still serves the pool");
    });

    it("R7.6 a parent that dies: its agent stops the parent's workers within about a second", LONG, async () => {
      const agent = await agentFor(server.url, "orphan", 1);
      const [command, argv] = runtimeCommand(`${repoRoot}conformance/nats/orphan_script.ts`, [server.url, "orphan"]);
      const parent = spawn(command, argv, { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
      cleanups.push(() => Promise.resolve(void signal(parent.pid!, "SIGKILL")));
      let stdout = "";
      const pid = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no worker pid from the parent: ${stdout}`)), 20_000);
        parent.stdout!.on("data", (chunk) => {
          stdout += chunk;
          const match = /worker pid (\d+)/.exec(stdout);
          if (match !== null) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        });
      });
      assert.ok(isAlive(pid));
      await delay(200);
      const killed = Date.now();
      signal(parent.pid!, "SIGKILL");
      assert.ok(await eventually(() => !isAlive(pid), 5000), `worker ${pid} outlived its parent`);
      assert.ok(Date.now() - killed < DETECTED_WITHIN_MS, `worker stopped after ${Date.now() - killed} ms`);
      assert.match(agent.log(), /parent \S+ silent for \d+ ms and gone: stopping its workers/);
    });
  });
}

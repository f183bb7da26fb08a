// Direct mode: a worker process that an agent starts talks to NATS itself, so its frames do not pass through the
// agent; the agent still starts, kills and reports it. Thread agents relay, and say so.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BrokenProcessPool, ProcessPoolExecutor } from "../mod.ts";
import { natsBackend } from "../nats.ts";
import { startAgent } from "../src/nats/agent.ts";
import { runtime, taskModule } from "./_backends.ts";
import {
  type AgentProcess,
  type NatsServer,
  signal,
  startAgentProcess,
  startConfiguredNatsServer,
  startNatsServer,
  TASKS_DIR,
} from "./_nats.ts";
import * as basic from "./tasks/basic.ts";
import * as env from "./tasks/nats_env.ts";

const LONG = { timeout: 60_000 };
const TOKEN = "s3cret-direct-token";

let server: NatsServer;
const cleanups: (() => Promise<void>)[] = [];

// An agent in direct mode (the default), or with `--relay` when `direct` is false.
async function agentFor(
  url: string,
  pool: string,
  backend: string,
  flags: string[] = [],
  direct = true,
): Promise<AgentProcess> {
  const agent = await startAgentProcess(url, [
    "--pool",
    pool,
    "--workers",
    "1",
    "--backend",
    backend,
    "--allow-module",
    TASKS_DIR.href,
    ...(direct ? [] : ["--relay"]),
    ...flags,
  ]);
  cleanups.push(() => agent.stop());
  return agent;
}

function causes(error: unknown): string {
  const lines: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) lines.push(`${e.name}: ${e.message}`);
  return lines.join("\n  caused by ");
}

describe(`NATS backend: direct worker processes (${runtime})`, () => {
  before(async () => {
    server = await startNatsServer();
  });
  after(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    await server?.stop();
  });

  it(
    "a process agent runs its workers in direct mode: a result comes back while the agent is frozen",
    LONG,
    async () => {
      const agent = await agentFor(server.url, "direct", "process");
      assert.match(agent.log(), /direct mode/);
      // A long silence before the agent counts as dead: the test freezes it on purpose.
      await using executor = new ProcessPoolExecutor({
        module: taskModule("basic.ts"),
        backend: natsBackend({ servers: server.url, pool: "direct", deadAfterMs: 10_000 }),
        maxWorkers: 1,
      });
      const pid = await executor.submit(basic.pid).result();
      assert.match(agent.log(), new RegExp(`pid ${pid}, direct\\) started`));
      signal(agent.pid, "SIGSTOP");
      try {
        // A relaying agent, stopped, could carry neither the task nor its result.
        assert.equal(await executor.submit(basic.double, 21).result(5000), 42);
        assert.equal(await executor.submit(basic.pid).result(5000), pid);
      } finally {
        signal(agent.pid, "SIGCONT");
      }
    },
  );

  it("an agent given connect options that cannot pass to a process (a function) relays instead", LONG, async () => {
    const lines: string[] = [];
    const agent = await startAgent({
      servers: server.url,
      connectOptions: { authenticator: () => undefined },
      pool: "fallback",
      workers: 1,
      backend: "process",
      direct: true,
      allowModules: [TASKS_DIR.href],
      host: "test",
      pid: 0,
      heartbeatMs: 250,
      log: (line) => lines.push(line),
    });
    cleanups.push(() => agent.close());
    assert.match(lines.join("\n"), /relay mode \(connectOptions that cannot pass/);
    await using executor = new ProcessPoolExecutor({
      module: taskModule("basic.ts"),
      backend: natsBackend({ servers: server.url, pool: "fallback" }),
      maxWorkers: 1,
    });
    assert.equal(await executor.submit(basic.double, 21).result(30_000), 42);
    assert.match(lines.join("\n"), /relayed\) started/);
  });

  it(
    "with --relay a process agent carries its workers' frames: their results stop while it is frozen",
    LONG,
    async () => {
      const agent = await agentFor(server.url, "default-relay", "process", [], false);
      assert.match(agent.log(), /relay mode \(--relay\)/);
      await using executor = new ProcessPoolExecutor({
        module: taskModule("basic.ts"),
        backend: natsBackend({ servers: server.url, pool: "default-relay", deadAfterMs: 10_000 }),
        maxWorkers: 1,
      });
      assert.equal(await executor.submit(basic.double, 1).result(30_000), 2);
      assert.match(agent.log(), /relayed\) started/);
      signal(agent.pid, "SIGSTOP");
      try {
        const future = executor.submit(basic.double, 21);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        assert.equal(future.done(), false, "a frozen relaying agent carried a result");
        signal(agent.pid, "SIGCONT");
        assert.equal(await future.result(10_000), 42);
      } finally {
        signal(agent.pid, "SIGCONT");
      }
    },
  );

  it("a thread agent relays its workers' frames, even with --direct, and says so", LONG, async () => {
    const agent = await agentFor(server.url, "relay", "worker");
    assert.match(agent.log(), /relay mode \(thread workers\)/);
    await using executor = new ProcessPoolExecutor({
      module: taskModule("basic.ts"),
      backend: natsBackend({ servers: server.url, pool: "relay" }),
      maxWorkers: 1,
    });
    assert.equal(await executor.submit(basic.double, 21).result(), 42);
    assert.match(agent.log(), /relayed\) started/);
  });

  it("R8.1 outcomes a direct worker finished survive its exit; the agent reports the exit code", LONG, async () => {
    await agentFor(server.url, "exits", "process");
    const executor = new ProcessPoolExecutor({
      module: taskModule("basic.ts"),
      backend: natsBackend({ servers: server.url, pool: "exits" }),
      maxWorkers: 1,
    });
    await executor.submit(basic.double, 0).result();
    // Sent together: the worker runs both before the exit, which must send the first one's outcome first.
    const first = executor.submit(basic.double, 21);
    // A result of 40 MB takes the worker's NATS thread seconds to send: the exit waits while it gets on with it.
    const big = "x".repeat(40_000_000);
    const second = executor.submit(basic.identity, big);
    const exits = executor.submit(basic.exit, 3);
    assert.equal(await first.result(10_000), 42);
    assert.equal(await second.result(60_000), big);
    const error = await exits.exception(10_000);
    assert.ok(error instanceof BrokenProcessPool, String(error));
    assert.match(causes(error), /remote worker .* pid \d+ on host .* exited with code 3/);
    await executor.shutdown();
  });

  it(
    "a direct worker keeps its connection through a synchronous task longer than the server's stale limit",
    LONG,
    async () => {
      // The server pings every client each 200 ms and drops one that leaves two pings unanswered: a task that
      // holds the worker's main thread for 3 s outlasts that limit several times over.
      const strict = await startConfiguredNatsServer('ping_interval: "200ms"\nping_max: 2\n');
      cleanups.push(() => strict.stop());
      const agent = await agentFor(strict.url, "stale", "process");
      await using executor = new ProcessPoolExecutor({
        module: taskModule("basic.ts"),
        backend: natsBackend({ servers: strict.url, pool: "stale" }),
        maxWorkers: 1,
      });
      const pid = await executor.submit(basic.pid).result(30_000);
      assert.equal(await executor.submit(basic.sleep, 3000).result(30_000), 3000);
      // The same worker, still connected, takes the next task.
      assert.equal(await executor.submit(basic.pid).result(10_000), pid);
      assert.doesNotMatch(agent.log(), /connection closed|Stale/i);
    },
  );

  it("a direct worker that cannot connect fails its spawn, and the pool breaks saying why", LONG, async () => {
    // Room for two connections: the agent's and the pool's; the worker's own is refused.
    const full = await startConfiguredNatsServer("max_connections: 2\n");
    cleanups.push(() => full.stop());
    await agentFor(full.url, "full", "process");
    const executor = new ProcessPoolExecutor({
      module: taskModule("basic.ts"),
      backend: natsBackend({ servers: full.url, pool: "full" }),
      maxWorkers: 1,
    });
    const error = await executor.submit(basic.double, 1).exception(30_000);
    assert.ok(error instanceof BrokenProcessPool, String(error));
    // The reason is the client's own (EPIPE, "write after end", … depending on the runtime and the timing), not
    // only that the worker's NATS thread ended.
    assert.match(causes(error), /could not start a worker: .*before it listened on NATS: \S/);
    assert.doesNotMatch(causes(error), /NATS thread ended/);
    await executor.shutdown();
  });

  it("a token reaches a direct worker, which connects with it, and task code does not see it", LONG, async () => {
    const own = await startNatsServer(["--auth", TOKEN]);
    cleanups.push(() => own.stop());
    const agent = await agentFor(own.url, "token", "process", ["--token", TOKEN]);
    assert.match(agent.log(), /direct mode/);
    await using executor = new ProcessPoolExecutor({
      module: taskModule("nats_env.ts"),
      backend: natsBackend({ servers: own.url, pool: "token", token: TOKEN }),
      maxWorkers: 1,
    });
    const seen = await executor.submit(env.procpoolEnv, TOKEN).result(30_000);
    assert.deepEqual(seen, { names: [], leaks: false });
    assert.match(agent.log(), /direct\) started/);
  });
});

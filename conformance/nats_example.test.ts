// The README's "Beyond one machine" walk-through, as a user runs it: a nats-server, two agents of pool "demo"
// allowed to run the examples folder, then examples/beyond_one_machine.ts with this runtime.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { runtime } from "./_backends.ts";
import { type AgentProcess, eventually, type NatsServer, startAgentProcess, startNatsServer } from "./_nats.ts";
import { repoRoot, runScript } from "./_scripts.ts";

const EXAMPLES = new URL("../examples/", import.meta.url);

describe(`README: Beyond one machine (${runtime})`, () => {
  let server: NatsServer | undefined;
  const agents: AgentProcess[] = [];
  after(async () => {
    for (const agent of agents) await agent.stop();
    await server?.stop();
  });

  it("two agents and the example: the primes are counted on the agents' workers, and a task error crosses back", {
    timeout: 120_000,
  }, async () => {
    server = await startNatsServer();
    for (let i = 0; i < 2; i++) {
      const flags = ["--pool", "demo", "--workers", "2", "--allow-module", EXAMPLES.href];
      agents.push(await startAgentProcess(server.url, flags));
    }
    const finished = await runScript(`${repoRoot}examples/beyond_one_machine.ts`, [], 90_000, {
      NATS_URL: server.url,
    });
    assert.equal(finished.code, 0, `the example ended with ${finished.code}:\n${finished.stderr}`);
    // π(2,000,000) = 148,933.
    assert.match(finished.stdout, /^148933 primes below 2000000, counted by the agents' workers$/m);
    assert.match(finished.stdout, /a task error crosses the network with its class and stack: RangeError: empty range/);
    assert.match(finished.stdout, /primes\.js/, "the remote stack names the task module");
    // The agents' workers ran it: worker processes (Node's default backend) direct, threads (Deno's and Bun's)
    // relayed. (Which agent takes which worker is the queue group's choice.) Their logs come through pipes.
    const mode = runtime === "node" ? "direct" : "relayed";
    const started = () =>
      agents.flatMap((agent) => agent.log().match(new RegExp(`\\(pid \\d+, ${mode}\\) started for parent`, "g")) ?? []);
    assert.ok(await eventually(() => started().length >= 1, 5000), `no ${mode} worker in the agents' logs`);
  });
});

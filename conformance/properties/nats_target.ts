// The NATS side of a property run: a real nats-server and two agents on this host, shared by every scenario of a
// test file, and the worker pids the agents report having started, so that a scenario can check none outlives it.

import type { Backend } from "../../mod.ts";
import { natsBackend } from "../../nats.ts";
import { type AgentProcess, type NatsServer, startAgentProcess, startNatsServer, TASKS_DIR } from "../_nats.ts";

/** The NATS pool name the property agents serve. */
export const PROPERTY_POOL = "properties";

/** Workers per agent: the largest generated pool (4 workers) fits on one agent, twice over on the two. */
const WORKERS_PER_AGENT = 4;

// "worker <id> (pid <pid>, relayed|direct) started for parent …", as agent.ts logs it on stderr.
const STARTED = /worker \S+ \(pid (\d+), (?:relayed|direct)\) started for parent/g;

/** A nats-server and two agents, running; `stop()` ends them all. */
export class NatsTarget {
  readonly server: NatsServer;
  readonly agents: readonly AgentProcess[];

  constructor(server: NatsServer, agents: readonly AgentProcess[]) {
    this.server = server;
    this.agents = agents;
  }

  /**
   * A backend for one pool. Agents are taken for dead only after 5 s of silence: these properties are about
   * semantics, and must not fail because a loaded machine delayed a heartbeat (nats_faults.test.ts tests that).
   */
  backend(): Backend {
    return natsBackend({ servers: this.server.url, pool: PROPERTY_POOL, deadAfterMs: 5000 });
  }

  /** A mark in the agents' logs: `startedSince(mark)` lists the workers started after it. */
  mark(): number[] {
    return this.agents.map((agent) => agent.log().length);
  }

  /** The pids of the worker processes the agents report having started since `mark`. */
  startedSince(mark: readonly number[]): number[] {
    const pids: number[] = [];
    this.agents.forEach((agent, i) => {
      for (const match of agent.log().slice(mark[i] ?? 0).matchAll(STARTED)) pids.push(Number(match[1]));
    });
    return pids;
  }

  /** Whether both agents still run (a scenario must not kill one). */
  agentsAlive(): boolean {
    return this.agents.every((agent) => agent.process.exitCode === null && agent.process.signalCode === null);
  }

  /** Stops the agents, then the server. */
  async stop(): Promise<void> {
    for (const agent of this.agents) await agent.stop();
    await this.server.stop();
  }
}

let current: NatsTarget | undefined;

/**
 * Starts nats-server on a free loopback port and two agents of {@linkcode PROPERTY_POOL} with worker processes
 * (so that a task may kill its own worker, as on the local process backend), one relaying, one direct, and makes
 * them the target of
 * scenarios on the "nats" backend until `stopNatsTarget()`.
 */
export async function startNatsTarget(): Promise<NatsTarget> {
  const server = await startNatsServer();
  const agents: AgentProcess[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      agents.push(
        await startAgentProcess(server.url, [
          "--pool",
          PROPERTY_POOL,
          "--workers",
          String(WORKERS_PER_AGENT),
          "--backend",
          "process",
          "--allow-module",
          TASKS_DIR.href,
          // One agent relays its workers' frames, the other lets them talk to NATS themselves.
          ...(i === 0 ? ["--relay"] : []),
        ]),
      );
    }
  } catch (error) {
    for (const agent of agents) await agent.stop();
    await server.stop();
    throw error;
  }
  current = new NatsTarget(server, agents);
  return current;
}

/** Stops what `startNatsTarget()` started. */
export async function stopNatsTarget(): Promise<void> {
  const target = current;
  current = undefined;
  await target?.stop();
}

/** The running target; throws when the test file did not start one. */
export function natsTarget(): NatsTarget {
  if (current === undefined) {
    throw new Error("no NATS target: a test of the nats backend must call startNatsTarget() in before()");
  }
  return current;
}

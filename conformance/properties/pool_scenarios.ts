// Runs one generated scenario on a real pool: the commands step by step against the model, then the end of
// the pool's life — every future settles, shutdown resolves, callbacks and logs add up, nothing is left over.

import fc from "fast-check";
import process from "node:process";
import type { PoolCommand } from "../commands/_step.ts";
import { observeAll, report } from "../commands/_step.ts";
import { PoolModel, type PoolSpec, show, thrownMismatch, type Violation } from "../model.ts";
import {
  type BackendName,
  describeThrown,
  HANG_MS,
  Harness,
  isAlive,
  sleep,
  stateOf,
  until,
  within,
} from "./harness.ts";

/**
 * Runs `commands` on a fresh pool built from `spec` on `backend`, and checks every observation against the model.
 * Throws a ConformanceError naming the rules broken.
 */
export async function runScenario(
  backend: BackendName,
  spec: PoolSpec,
  commands: Iterable<PoolCommand>,
): Promise<void> {
  const harness = new Harness(backend, spec);
  const model = new PoolModel(spec, harness.moduleHref);
  try {
    try {
      await fc.asyncModelRun(() => ({ model, real: harness }), TRACE ? traced(spec, commands) : commands);
      await finish(model, harness);
    } catch (error) {
      throw harness.explain(error, "to the test");
    }
  } finally {
    await harness.dispose();
  }
}

// PB_TRACE=1 prints each step as it runs (to stderr), to see where a scenario stops.
const TRACE = Boolean(process.env.PB_TRACE);

function traced(spec: PoolSpec, commands: Iterable<PoolCommand>): PoolCommand[] {
  console.error(`[pb] pool ${show(spec)}`);
  return [...commands].map((command) => ({
    check: (model) => command.check(model),
    run: async (model, real) => {
      const started = Date.now();
      console.error(`[pb]   ${command}`);
      try {
        await command.run(model, real);
      } catch (error) {
        console.error(`[pb]     failed after ${Date.now() - started}ms: ${(error as Error).message}`);
        throw error;
      }
      console.error(`[pb]     done in ${Date.now() - started}ms`);
    },
    toString: () => command.toString(),
  }));
}

async function finish(model: PoolModel, harness: Harness): Promise<void> {
  // Every future settles once nothing holds it back (R4.1; R1.3 and R8.1 for broken pools).
  for (let i = 0; i < harness.futures.length; i++) if (harness.openGate(i)) model.gateOpened(i);
  const settled = await Promise.all(harness.futures.map((_, i) => harness.settle(i)));
  const stuck: Violation[] = [];
  settled.forEach((ok, i) => {
    if (!ok) {
      stuck.push({
        rule: "R4.1",
        message: `${model.futures[i].label} never settled (state ${stateOf(harness.futures[i])}); allowed: ${
          model.allowed(model.futures[i]).map((p) => p.kind).join(" | ")
        }`,
      });
    }
  });
  report(stuck);
  await observeAll(model, harness);

  // Shutdown, twice at once: both calls resolve, after which every worker is gone (R7.2, R7.6).
  const before = harness.futures.map(stateOf);
  const both = Promise.all([
    harness.inPhase("shutdown", () => harness.pool.shutdown()),
    harness.inPhase("shutdown", () => harness.pool.shutdown({ cancelFutures: true })),
  ]);
  const closed = await within(both, HANG_MS);
  report(
    model.shutdownCalled(
      { cancelFutures: false, wait: true },
      before,
      closed.ok ? "resolved" : "hung",
      harness.futures.map(stateOf),
    ),
  );

  // After shutdown the pool takes no more work (R7.1; R1.4 when broken).
  const violations: Violation[] = [];
  try {
    harness.pool.submit("run", harness.job({ do: "return", value: 0, async: false, ms: 0 }, "after-shutdown", false));
    violations.push({ rule: "R7.1", message: "submit after shutdown returned a future" });
  } catch (error) {
    const thrown = describeThrown(error);
    const reasons = model.expectedSubmitErrors().map((e) => thrownMismatch(e, thrown));
    if (!reasons.some((r) => r === undefined)) {
      violations.push({
        rule: model.knownBroken ? "R1.4" : "R7.1",
        message: `submit after shutdown: ${reasons.join("; ")}`,
      });
    }
  }

  const ran = harness.ran();
  violations.push(...model.finalCheck(harness.calls, harness.logs, new Set(ran.keys())));

  // No worker process outlives the pool (R7.6). Threads live in this process; their end is shutdown resolving.
  // Over NATS the workers are the agents' child processes on this host, and the agents report their pids.
  const pids = harness.workerPids();
  await until(() => pids.every((pid) => !isAlive(pid)), 2_000);
  const alive = pids.filter(isAlive);
  if (alive.length > 0) {
    violations.push({ rule: "R7.6", message: `worker processes ${show(alive)} outlived shutdown()` });
  }

  // Nothing escaped: no unhandled rejection, no uncaught exception (a callback error must not propagate, R3.3).
  await sleep(1);
  if (harness.rejections.length > 0) {
    violations.push({
      rule: "R3.3",
      message: `unhandled rejection(s): ${harness.rejections.map((r) => show(r)).join(", ")}`,
    });
  }
  if (harness.uncaught.length > 0) {
    violations.push({
      rule: "R3.3",
      message: `uncaught exception(s): ${harness.uncaught.map((r) => show(r)).join(", ")}`,
    });
  }
  report(violations);
}

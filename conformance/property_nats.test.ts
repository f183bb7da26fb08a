// R1–R8 as properties over the NATS backend: the same generated scenarios as property_*.test.ts, on pools whose
// workers two procpool agents run, through a real nats-server started here.

import "../src/_test_guard.ts";
import { after, before, describe, it } from "node:test";
import { PROFILES, type RuleGroup } from "./arbitraries.ts";
import { backendFilter, suiteSuffix, testTimeoutMs } from "./_config.ts";
import { checkRuleGroup, titleOf } from "./properties/rule_groups.ts";
import { natsTarget, startNatsTarget, stopNatsTarget } from "./properties/nats_target.ts";
import { ProcessPoolExecutor } from "../mod.ts";
import { taskModule } from "./_backends.ts";
import assert from "node:assert/strict";

if (backendFilter === undefined || backendFilter.includes("nats")) {
  describe(`property-based conformance over NATS, two agents (${suiteSuffix})`, () => {
    before(async () => {
      await startNatsTarget();
    });
    after(async () => {
      await stopNatsTarget();
    });
    // The R7.6 check finds the workers' pids in the agents' logs: if it found none, it would check nothing.
    it("the agents' logs name the worker processes they start; one agent relays, the other is direct", {
      timeout: 60_000,
    }, async () => {
      const target = natsTarget();
      const mark = target.mark();
      const pool = new ProcessPoolExecutor({
        module: taskModule("basic.ts"),
        backend: target.backend(),
        maxWorkers: 4,
      });
      try {
        const pids = new Set(await Promise.all(Array.from({ length: 8 }, () => pool.submit("pid").result(30_000))));
        const started = target.startedSince(mark);
        for (const pid of pids) assert.ok(started.includes(pid as number), `worker ${pid} is not in ${started}`);
        assert.match(target.agents[0].log(), /relay mode/);
        assert.match(target.agents[1].log(), /direct mode/);
      } finally {
        await pool.shutdown();
      }
    });
    for (const group of Object.keys(PROFILES) as RuleGroup[]) {
      it(`${titleOf(group)} — nats backend`, { timeout: testTimeoutMs() }, async () => {
        await checkRuleGroup(group, "nats");
      });
    }
  });
}

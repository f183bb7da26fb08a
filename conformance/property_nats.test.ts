// R1–R8 as properties over the NATS backend: the same generated scenarios as property_*.test.ts, on pools whose
// workers two procpool agents run, through a real nats-server started here.

import "../src/_test_guard.ts";
import { after, before, describe, it } from "node:test";
import { PROFILES, type RuleGroup } from "./arbitraries.ts";
import { backendFilter, suiteSuffix, testTimeoutMs } from "./_config.ts";
import { checkRuleGroup, titleOf } from "./properties/rule_groups.ts";
import { startNatsTarget, stopNatsTarget } from "./properties/nats_target.ts";

if (backendFilter === undefined || backendFilter.includes("nats")) {
  describe(`property-based conformance over NATS, two agents (${suiteSuffix})`, () => {
    before(async () => {
      await startNatsTarget();
    });
    after(async () => {
      await stopNatsTarget();
    });
    for (const group of Object.keys(PROFILES) as RuleGroup[]) {
      it(`${titleOf(group)} — nats backend`, { timeout: testTimeoutMs() }, async () => {
        await checkRuleGroup(group, "nats");
      });
    }
  });
}

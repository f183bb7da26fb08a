// R1 as a property: generated scenarios on a real pool, compared with the model (conformance/model.ts).

import "../src/_test_guard.ts";
import { describe, it } from "node:test";
import { backendFilter, suiteSuffix, testTimeoutMs } from "./_config.ts";
import { backends } from "./_backends.ts";
import { checkRuleGroup, titleOf } from "./properties/rule_groups.ts";

describe(`property-based conformance (${suiteSuffix})`, () => {
  for (const backend of backends.filter((b) => backendFilter === undefined || backendFilter.includes(b))) {
    it(`${titleOf("R1")} — ${backend} backend`, { timeout: testTimeoutMs() }, async () => {
      await checkRuleGroup("R1", backend);
    });
  }
});

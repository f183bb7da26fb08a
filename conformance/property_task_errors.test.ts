// R2 as a property: generated scenarios on a real pool, compared with the model (conformance/model.ts).

import { describe, it } from "node:test";
import { backendFilter, suiteSuffix, testTimeoutMs } from "./_config.ts";
import { backends } from "./_backends.ts";
import { checkRuleGroup, titleOf } from "./properties/rule_groups.ts";

describe(`property ${titleOf("R2")} (${suiteSuffix})`, () => {
  for (const backend of backends.filter((b) => backendFilter === undefined || backendFilter.includes(b))) {
    it(`R2 holds on the ${backend} backend`, { timeout: testTimeoutMs() }, async () => {
      await checkRuleGroup("R2", backend);
    });
  }
});

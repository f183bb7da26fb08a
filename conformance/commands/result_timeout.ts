// result(ms) / exception(ms): a bounded wait, which must not change the future.

import type { PoolModel } from "../model.ts";
import { describeThrown, type Harness, stateOf } from "../properties/harness.ts";
import { TimeoutError } from "../../mod.ts";
import { observeAll, pick, type PoolCommand, report } from "./_step.ts";

/** `result(ms)` or `exception(ms)`: TimeoutError when not done in time, the future unaffected (R4.4). */
export class ResultTimeoutCommand implements PoolCommand {
  constructor(readonly target: number, readonly ms: number, readonly via: "result" | "exception") {}

  check(model: Readonly<PoolModel>): boolean {
    return model.futures.length > 0;
  }

  async run(model: PoolModel, harness: Harness): Promise<void> {
    await observeAll(model, harness);
    const index = pick(model, this.target);
    const future = harness.futures[index];
    const mustTimeOut = model.certainlyUnfinished(model.futures[index]);
    let timedOut = false;
    let wrongClass: string | undefined;
    try {
      await (this.via === "result" ? future.result(this.ms) : future.exception(this.ms));
    } catch (error) {
      const desc = describeThrown(error);
      if (desc.isError && desc.name === "TimeoutError") {
        timedOut = true;
        if (!(error instanceof TimeoutError)) wrongClass = `${desc.proto}`;
      }
    }
    const violations = [];
    if (wrongClass !== undefined) {
      violations.push({
        rule: "R4.4",
        message: `${this.via}(${this.ms}) rejected with a ${wrongClass}, not procpool's TimeoutError`,
      });
    }
    if (!timedOut && !future.done()) {
      violations.push({ rule: "R4.4", message: `${this.via}(${this.ms}) settled while f${index} is not done` });
    }
    const outcome = !timedOut && future.done() ? (await harness.outcomeOf(index)).outcome : undefined;
    violations.push(...model.resultWithTimeout(index, timedOut, outcome, stateOf(future), mustTimeOut));
    report(violations);
  }

  toString(): string {
    return `${this.via}(${this.ms}) of f#${this.target}`;
  }
}

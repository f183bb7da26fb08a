// cancel(): at a random point in a future's life.

import type { PoolModel } from "../model.ts";
import { type Harness, stateOf } from "../properties/harness.ts";
import { observeAll, pickRecent, type PoolCommand, report } from "./_step.ts";

/**
 * `future.cancel()`: true exactly for a pending (or already cancelled) future, whose callbacks run at once
 * (R4.2). With `pendingFirst`, it aims at a future that is pending right now, if there is one.
 */
export class CancelCommand implements PoolCommand {
  constructor(readonly target: number, readonly pendingFirst = false) {}

  check(model: Readonly<PoolModel>): boolean {
    return model.futures.length > 0;
  }

  async run(model: PoolModel, harness: Harness): Promise<void> {
    await observeAll(model, harness);
    const pending = harness.futures.flatMap((f, i) => stateOf(f) === "pending" ? [i] : []);
    const index = this.pendingFirst && pending.length > 0
      ? pending[this.target % pending.length]
      : pickRecent(model, this.target);
    const future = harness.futures[index];
    const before = stateOf(future);
    const seen = harness.calls.length;
    const returned = harness.inPhase(`cancel f${index}`, () => future.cancel());
    const after = stateOf(future);
    report(model.cancelCalled(index, before, returned, after, harness.calls.slice(seen)));
  }

  toString(): string {
    return this.pendingFirst
      ? `cancel pending #${this.target}`
      : `cancel f#-${this.target + 1} (counting from the latest)`;
  }
}

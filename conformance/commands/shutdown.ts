// shutdown() in the middle of a scenario, with and without cancelFutures and wait.

import type { PoolModel } from "../model.ts";
import { HANG_MS, type Harness, stateOf, within } from "../properties/harness.ts";
import { observeAll, type PoolCommand, report } from "./_step.ts";

/**
 * `shutdown({ cancelFutures, wait })`: pending futures are cancelled first when asked; with `wait` it resolves
 * only once everything is done; without, at once (R7.2, R7.3). Gates open first when it waits.
 */
export class ShutdownCommand implements PoolCommand {
  constructor(readonly cancelFutures: boolean, readonly wait: boolean) {}

  check(model: Readonly<PoolModel>): boolean {
    return !model.shutdown;
  }

  async run(model: PoolModel, harness: Harness): Promise<void> {
    await observeAll(model, harness);
    if (this.wait) {
      for (let i = 0; i < harness.futures.length; i++) if (harness.openGate(i)) model.gateOpened(i);
    }
    const before = harness.futures.map(stateOf);
    const promise = harness.inPhase(
      "shutdown",
      () => harness.pool.shutdown({ cancelFutures: this.cancelFutures, wait: this.wait }),
    );
    const settled = await within(promise, this.wait ? HANG_MS : 250);
    const after = harness.futures.map(stateOf);
    const resolved = settled.ok ? "resolved" : this.wait ? "hung" : "late";
    report(model.shutdownCalled({ cancelFutures: this.cancelFutures, wait: this.wait }, before, resolved, after));
  }

  toString(): string {
    return `shutdown({ cancelFutures: ${this.cancelFutures}, wait: ${this.wait} })`;
  }
}

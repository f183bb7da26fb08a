// wait(): with each returnWhen, with and without a timeout.

import type { PoolModel, ReturnWhen } from "../model.ts";
import { HANG_MS, type Harness, stateOf, within } from "../properties/harness.ts";
import { wait } from "../../mod.ts";
import { observeAll, pickRecent, type PoolCommand, report } from "./_step.ts";

/**
 * `wait(fs, { returnWhen, timeout })` on some futures (duplicates allowed) (R6.1, R6.3). With `withCancelled`,
 * a cancelled future joins the targets when there is one: a cancelled future is done, but not failed.
 */
export class WaitCommand implements PoolCommand {
  constructor(
    readonly targets: readonly number[],
    readonly returnWhen: ReturnWhen,
    readonly timeout: number | undefined,
    readonly withCancelled = false,
  ) {}

  check(model: Readonly<PoolModel>): boolean {
    return model.futures.length > 0;
  }

  async run(model: PoolModel, harness: Harness): Promise<void> {
    await observeAll(model, harness);
    const indices = this.targets.map((t) => pickRecent(model, t));
    const cancelled = harness.futures.findIndex((f) => f.cancelled());
    if (this.withCancelled && cancelled >= 0) indices.push(cancelled);
    // Without a timeout it waits for real, so the gates that could hold the targets up open — but only after a
    // moment, so that a wait that returns too early is seen doing so.
    const opener = this.timeout === undefined ? harness.openGatesAfter(Math.max(...indices), 30) : undefined;
    const futures = indices.map((i) => harness.futures[i]);
    // Futures can finish in promise continuations (a task name resolved once the module loaded), so only what
    // was done before the call is certain to be in `done`.
    const doneBefore = indices.filter((i) => harness.futures[i].done());
    const start = performance.now();
    const settled = await within(wait(futures, { returnWhen: this.returnWhen, timeout: this.timeout }), HANG_MS);
    const elapsedMs = performance.now() - start;
    opener?.stop();
    for (const i of opener?.opened ?? []) model.gateOpened(i);
    const states = harness.futures.map(stateOf);
    if (!settled.ok) {
      report(model.waited(indices, this.returnWhen, this.timeout, "hung", states, new Set(), doneBefore));
      return;
    }
    const done = [...settled.value.done].map((f) => harness.futures.indexOf(f));
    const notDone = [...settled.value.notDone].map((f) => harness.futures.indexOf(f));
    const failed = new Set<number>();
    for (const i of done) {
      if ((await harness.outcomeOf(i)).outcome.kind === "raised") failed.add(i);
    }
    report(
      model.waited(indices, this.returnWhen, this.timeout, { done, notDone, elapsedMs }, states, failed, doneBefore),
    );
  }

  toString(): string {
    const timeout = this.timeout === undefined ? "" : `, timeout ${this.timeout}ms`;
    const cancelled = this.withCancelled ? ", a cancelled one" : "";
    return `wait([${this.targets.map((t) => `f#-${t + 1}`).join(", ")}${cancelled}], ${this.returnWhen}${timeout})`;
  }
}

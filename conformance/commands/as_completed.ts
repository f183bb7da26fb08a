// asCompleted(): every distinct future once, those already done first; TimeoutError on time out.

import type { ObservedState, PoolModel, ThrownDesc } from "../model.ts";
import { describeThrown, HANG_MS, type Harness, stateOf, within } from "../properties/harness.ts";
import { asCompleted, type Future } from "../../mod.ts";
import { observeAll, pick, type PoolCommand, report } from "./_step.ts";

type End = { kind: "done" } | { kind: "threw"; thrown: ThrownDesc; elapsedMs: number } | { kind: "hung" };

/** Iterates `asCompleted(fs, { timeout })` to its end (R6.2, R6.3). */
export class AsCompletedCommand implements PoolCommand {
  constructor(readonly targets: readonly number[], readonly timeout: number | undefined) {}

  check(model: Readonly<PoolModel>): boolean {
    return model.futures.length > 0;
  }

  async run(model: PoolModel, harness: Harness): Promise<void> {
    await observeAll(model, harness);
    const indices = this.targets.map((t) => pick(model, t));
    // Without a timeout it waits for real, so the gates that could hold the targets up open — but only after a
    // moment, so that a wait that returns too early is seen doing so.
    const opener = this.timeout === undefined ? harness.openGatesAfter(Math.max(...indices), 30) : undefined;
    const iterator = asCompleted(indices.map((i) => harness.futures[i]), { timeout: this.timeout });
    const doneAtStart = [...new Set(indices)].filter((i) => harness.futures[i].done());
    const yielded: { index: number; state: ObservedState }[] = [];
    const start = performance.now();
    const consume = async (): Promise<End> => {
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done) return { kind: "done" };
          const future = next.value as Future<unknown>;
          yielded.push({ index: harness.futures.indexOf(future), state: stateOf(future) });
        }
      } catch (error) {
        return { kind: "threw", thrown: describeThrown(error), elapsedMs: performance.now() - start };
      }
    };
    const settled = await within(consume(), HANG_MS);
    if (!settled.ok) await iterator.return?.();
    opener?.stop();
    for (const i of opener?.opened ?? []) model.gateOpened(i);
    const end: End = settled.ok ? settled.value : { kind: "hung" };
    report(model.asCompletedRan(indices, this.timeout, doneAtStart, yielded, end));
  }

  toString(): string {
    const timeout = this.timeout === undefined ? "" : `, timeout ${this.timeout}ms`;
    return `asCompleted([${this.targets.map((t) => `f#${t}`).join(", ")}]${timeout})`;
  }
}

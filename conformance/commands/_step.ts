// What every command shares: its type, the look at all futures before it acts, and how it reports violations.

import type fc from "fast-check";
import { ConformanceError, type Harness, until } from "../properties/harness.ts";
import type { PoolModel, Violation } from "../model.ts";

/** A step of a scenario: acts on the real pool (the harness) and checks what it saw against the model. */
export type PoolCommand = fc.AsyncCommand<PoolModel, Harness>;

/** Throws the violations, if any: fast-check then shrinks the scenario and prints it. */
export function report(violations: readonly Violation[]): void {
  if (violations.length > 0) throw new ConformanceError(violations);
}

/**
 * Shows the model the state of every future (R4.1). Once the pool is known broken, first gives the remaining
 * futures a moment to fail (R1.3 asks that they all do, promptly).
 */
export async function observeAll(model: PoolModel, harness: Harness): Promise<void> {
  if (model.knownBroken) await until(() => harness.futures.every((f) => f.done()), 3_000);
  const { views, violations } = await harness.views();
  report([...violations, ...model.observe(views)]);
}

/** The future a command aims at: `target` wraps around the futures submitted so far. */
export function pick(model: PoolModel, target: number): number {
  return target % model.futures.length;
}

/** Like `pick`, counting from the latest future: those are the ones most likely still pending. */
export function pickRecent(model: PoolModel, target: number): number {
  return model.futures.length - 1 - (target % model.futures.length);
}

// The properties, one per rule group: generate scenarios with that group's mix, run each on a real pool, compare
// with the model. Plain exported functions, so that users and other executors can run them too.

import fc from "fast-check";
import { appendFileSync } from "node:fs";
import { PROFILES, type RuleGroup, scenarioArb } from "../arbitraries.ts";
import { parameters, reportFile, shrinkBudgetMs, timeBudgetFor } from "../_config.ts";
import { runtime } from "../_backends.ts";
import type { BackendName } from "./harness.ts";
import { runScenario } from "./pool_scenarios.ts";

/** What one property run produced, as run_matrix.ts reads it. */
export interface PropertyReport {
  readonly group: RuleGroup;
  readonly runtime: string;
  readonly backend: BackendName;
  readonly runs: number;
  readonly failed: boolean;
  readonly seed: number;
  readonly path?: string;
  readonly ms: number;
  readonly rule?: string;
}

/** The title of a rule group's property. */
export function titleOf(group: RuleGroup): string {
  return PROFILES[group].title;
}

/**
 * Checks one rule group on one backend: runs generated scenarios until the run count or the time budget is
 * reached. On failure throws an error with the shrunk scenario, the broken rule, and the replay command.
 */
export async function checkRuleGroup(group: RuleGroup, backend: BackendName): Promise<PropertyReport> {
  const started = Date.now();
  // The time budget stops new runs, never a running one (a pool must not outlive its run); once a run failed, the
  // remaining budget goes to shrinking, itself bounded.
  const budgetMs = timeBudgetFor(backend);
  const deadline = budgetMs === undefined ? Infinity : started + budgetMs;
  let executed = 0;
  let failedAt: number | undefined;
  const property = fc.asyncProperty(scenarioArb(group, backend), async ([pool, lead, commands]) => {
    const now = Date.now();
    if (failedAt === undefined ? now > deadline : now > failedAt + shrinkBudgetMs) return;
    if (failedAt === undefined) executed++;
    try {
      await runScenario(backend, pool, lead === undefined ? commands : [lead, ...commands]);
    } catch (error) {
      failedAt ??= Date.now();
      throw error;
    }
  });
  const details = await fc.check(property, parameters());
  const error = details.errorInstance as { message?: string; violations?: readonly { rule: string }[] } | undefined;
  const report: PropertyReport = {
    group,
    runtime,
    backend,
    runs: executed,
    failed: details.failed,
    seed: details.seed,
    ...(details.failed ? { path: details.counterexamplePath ?? undefined, rule: error?.violations?.[0]?.rule } : {}),
    ms: Date.now() - started,
  };
  if (reportFile !== undefined) appendFileSync(reportFile, `${JSON.stringify(report)}\n`);
  if (details.failed) {
    const counterexample = details.counterexample == null
      ? "?"
      : fc.stringify((details.counterexample as unknown[])[0]);
    throw new Error(
      `${group} failed on ${runtime}/${backend} after ${executed} runs` +
        (report.rule === undefined ? "" : `: rule ${report.rule} broken`) + "\n\n" +
        `${error?.message ?? String(details.errorInstance)}\n\n` +
        `Shrunk scenario (${details.numShrinks} shrinks): [pool options, steps]\n${counterexample}\n\n` +
        `Replay: FC_SEED=${details.seed} FC_PATH=${JSON.stringify(report.path ?? "")} FC_COMMANDS_PATH=${
          JSON.stringify(/replayPath="([^"]*)"/.exec(counterexample)?.[1] ?? "")
        } PB_BACKENDS=${backend} <the same test command>`,
    );
  }
  return report;
}

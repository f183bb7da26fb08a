// Settings of the property-based suite, from the environment: FC_SEED and FC_NUM_RUNS (and FC_PATH, FC_TIME_MS,
// FC_NATS_TIME_MS, PB_BACKENDS, PB_REPORT). The seed is fixed for the whole process and shown in every suite title, so that any
// failure can be replayed: FC_SEED=<seed> [FC_PATH=<path>] <the same test command>.

import fc, { type Parameters } from "fast-check";
import process from "node:process";
import { runtime } from "./_backends.ts";

function numberFrom(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** The seed of every property in this process: FC_SEED, or a fresh one. */
export const seed: number = numberFrom("FC_SEED") ?? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;

/** FC_NUM_RUNS when given: that many runs per property and backend, with no time budget. */
export const explicitRuns: number | undefined = numberFrom("FC_NUM_RUNS");

/**
 * Runs per property and backend. By default a property runs until DEFAULT_RUNS or until its time budget is spent,
 * whichever comes first, so that the whole matrix (three runtimes, two backends each) fits in a few minutes.
 */
export const DEFAULT_RUNS = 60;

/**
 * The default time budget of one property on one backend. Node (through tsx) starts a worker in ~300 ms, Deno
 * and Bun in well under 100 ms, so Node gets more time for fewer runs.
 */
export const timeBudgetMs: number | undefined = numberFrom("FC_TIME_MS") ??
  (explicitRuns !== undefined ? undefined : runtime === "node" ? 11_000 : 7_000);

/**
 * The default time budget of one property on the "nats" backend (FC_NATS_TIME_MS; FC_TIME_MS, when given, sets
 * both). Shorter than the local backends': the rule groups run there too, and the NATS column has to add only a
 * couple of minutes to the matrix; it checks that the rules hold through the agents, not every corner again.
 */
export const natsTimeBudgetMs: number | undefined = numberFrom("FC_NATS_TIME_MS") ?? numberFrom("FC_TIME_MS") ??
  (explicitRuns !== undefined ? undefined : runtime === "node" ? 6_000 : 4_500);

/** The time budget of one property on `backend`. */
export function timeBudgetFor(backend: string): number | undefined {
  return backend === "nats" ? natsTimeBudgetMs : timeBudgetMs;
}

/** FC_SHRINK_MS: how long a failed property may spend shrinking its counterexample. */
export const shrinkBudgetMs: number = numberFrom("FC_SHRINK_MS") ?? 20_000;

/** FC_PATH: replays exactly the (shrunk) counterexample a failure printed, together with FC_SEED. */
export const path: string | undefined = process.env.FC_PATH || undefined;

/** FC_COMMANDS_PATH: the steps' own replay hint (fast-check's `replayPath` of fc.commands), printed with FC_PATH. */
export const commandsPath: string | undefined = process.env.FC_COMMANDS_PATH || undefined;

/** PB_BACKENDS: a comma-separated subset of this runtime's backends to test (default: all). */
export const backendFilter: readonly string[] | undefined = process.env.PB_BACKENDS?.split(",").map((s) => s.trim())
  .filter((s) => s !== "");

/** PB_REPORT: a file to which each property appends one JSON line (run_matrix.ts reads them). */
export const reportFile: string | undefined = process.env.PB_REPORT || undefined;

fc.configureGlobal({ seed, numRuns: explicitRuns ?? DEFAULT_RUNS });

/** The fast-check parameters of one property run. */
export function parameters(): Parameters<unknown> {
  return {
    seed,
    path,
    numRuns: explicitRuns ?? DEFAULT_RUNS,
    endOnFailure: path !== undefined,
  };
}

/** What goes in every suite title: the runtime and the seed that replays it. */
export const suiteSuffix = `${runtime}, FC_SEED=${seed}`;

/** The per-test timeout for the runners (bun's default of 5 s would kill a property). */
export function testTimeoutMs(): number {
  const runs = explicitRuns ?? DEFAULT_RUNS;
  return Math.max(180_000, (timeBudgetMs ?? runs * 4_000) + 120_000);
}

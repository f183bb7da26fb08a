// Helpers the scenario scripts share: arguments, the task module's URL, timing rounds, RSS, GC, one JSON line.

import { readdirSync, readFileSync, realpathSync } from "node:fs";
import process from "node:process";

/** The runtimes the benchmark runs on. */
export type RuntimeName = "node" | "deno" | "bun";

/** procpool's two backend kinds, and the transport the raw baseline uses for each. */
export type BackendKind = "process" | "worker";

/** The benchmark's task module, as an absolute URL (what procpool's `module` option and the bare workers take). */
export const TASKS_URL: string = new URL("./tasks.ts", import.meta.url).href;

/** Which runtime runs this script. */
export function runtimeName(): RuntimeName {
  if ("Deno" in globalThis) return "deno";
  if ("Bun" in globalThis) return "bun";
  return "node";
}

/** Parses `key=value` arguments. */
export function parseArgs(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of process.argv.slice(2)) {
    const eq = arg.indexOf("=");
    if (eq > 0) out[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  return out;
}

/** Reads a required argument that must be one of `choices`. */
export function choice<T extends string>(args: Record<string, string>, key: string, choices: readonly T[]): T {
  const value = args[key];
  if (!choices.includes(value as T)) throw new TypeError(`${key} must be one of ${choices.join(", ")}, got ${value}`);
  return value as T;
}

/** Reads an optional positive integer argument. */
export function integer(args: Record<string, string>, key: string, fallback: number): number {
  const value = args[key] === undefined ? fallback : Number(args[key]);
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${key} must be a positive integer`);
  return value;
}

/** Prints the scenario's one JSON line, which the orchestrator reads. */
export function emit(result: Record<string, unknown>): void {
  console.log(JSON.stringify({ ...result, runtime: runtimeName() }));
}

const WARM_UP_RUNS = 3;
const WARM_UP_MS = 500;

/** Runs `body` at least WARM_UP_RUNS times and until WARM_UP_MS have passed. */
export async function warmUp(body: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  for (let runs = 0; runs < WARM_UP_RUNS || performance.now() - start < WARM_UP_MS; runs++) await body();
}

/**
 * Runs `body` as a warm-up (at least WARM_UP_RUNS times and WARM_UP_MS long, so that the engines have compiled
 * the hot paths and sized their heaps: a pool's first rounds are otherwise up to 2× slower than its later ones),
 * then `rounds` times timed; returns each timed round's milliseconds. `body` gets whether this is the warm-up, so
 * that it can do a smaller amount of work then.
 */
export async function timeRounds(rounds: number, body: (warmUp: boolean) => Promise<void>): Promise<number[]> {
  await warmUp(() => body(true));
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await body(false);
    samples.push(performance.now() - start);
  }
  return samples;
}

/** The input of the throughput rounds: 0, 1, … n − 1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Checks that results are inc(0) … inc(n − 1); a benchmark of wrong answers measures nothing. */
export function checkResults(results: ArrayLike<number>, n: number): void {
  if (results.length !== n) throw new Error(`expected ${n} results, got ${results.length}`);
  for (let i = 0; i < n; i++) {
    if (results[i] !== i + 1) throw new Error(`result ${i} is ${results[i]}, expected ${i + 1}`);
  }
}

/** A process's resident set size in KiB, from /proc/<pid>/status (Linux). */
export function rssKiB(pid: number | "self" = "self"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/**
 * The pids of this process's children that run the same executable (the workers of a process backend): from
 * /proc/self/task/<tid>/children, which lists every thread's children; helpers such as esbuild are left out.
 */
export function workerChildPids(): number[] {
  const self = realpathSync(`/proc/${process.pid}/exe`);
  const pids: number[] = [];
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${process.pid}/task/${tid}/children`, "utf8");
    } catch {
      continue; // the thread ended meanwhile
    }
    for (const word of text.trim().split(/\s+/)) {
      if (word === "") continue;
      const pid = Number(word);
      try {
        if (realpathSync(`/proc/${pid}/exe`) === self) pids.push(pid);
      } catch {
        // the child ended meanwhile
      }
    }
  }
  return pids;
}

/** Runs a full garbage collection when the runtime lets us (node --expose-gc, deno --v8-flags=--expose-gc, Bun). */
export function collectGarbage(): void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun !== undefined) return bun.gc(true);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === "function") gc();
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

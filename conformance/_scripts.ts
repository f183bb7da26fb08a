// Running a TypeScript program with the runtime the tests run on, for tests that watch a whole process.

import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtime } from "./_backends.ts";

/** The repository's root folder, the working directory of every program run here. */
export const repoRoot: string = fileURLToPath(new URL("..", import.meta.url));

/** How a program ended and what it printed. */
export interface Finished {
  /** The exit code, or null when it was killed. */
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Milliseconds from start to exit. */
  readonly ms: number;
}

/** The command that runs a TypeScript file with this runtime: node (through tsx), deno run -A, or bun. */
export function runtimeCommand(script: string, args: string[]): [string, string[]] {
  if (runtime === "deno") return [process.execPath, ["run", "-A", script, ...args]];
  if (runtime === "bun") return [process.execPath, [script, ...args]];
  return [process.execPath, ["--import", "tsx", script, ...args]];
}

/**
 * Runs a program with this runtime and collects its output; kills it (code null) if it runs longer than `ms`.
 * `env` adds to (or overrides) this process's environment.
 */
export function runScript(script: string, args: string[], ms: number, env?: Record<string, string>): Promise<Finished> {
  const [command, argv] = runtimeCommand(script, args);
  const started = Date.now();
  const child = spawn(command, argv, {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

// A real nats-server and real agents for the NATS tests: started on a free loopback port, stopped after.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtimeCommand } from "./_scripts.ts";
import { repoRoot } from "./_scripts.ts";

const SERVER_PATHS = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];

/** The nats-server binary: $NATS_SERVER, or the usual places. */
export function natsServerPath(): string {
  const configured = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
    .NATS_SERVER;
  if (configured !== undefined) return configured;
  const found = SERVER_PATHS.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(
      `nats-server not found (looked in ${SERVER_PATHS.join(", ")}; set NATS_SERVER): ` +
        "install it (apt-get install nats-server) to run the NATS tests",
    );
  }
  return found;
}

/** A loopback port nothing listens on (free a moment ago). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A running nats-server. */
export interface NatsServer {
  readonly url: string;
  readonly process: ChildProcess;
  /** Stops it (SIGKILL when `hard`), resolving once it exited. */
  stop(hard?: boolean): Promise<void>;
}

/**
 * Starts nats-server on a free loopback port and waits until it accepts connections. `args` go after the address
 * and port: `["--user", "u", "--pass", "p"]`, `["--auth", "TOKEN"]`, `["--tls", "--tlscert", FILE, …]`.
 */
export async function startNatsServer(args: readonly string[] = []): Promise<NatsServer> {
  const binary = natsServerPath();
  const port = await freePort();
  const child = spawn(binary, ["-a", "127.0.0.1", "-p", String(port), ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let output = "";
  child.stderr!.on("data", (chunk) => output += chunk);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let failed: Error | undefined;
  child.once("error", (error) => failed = error);
  const deadline = Date.now() + 5000;
  while (!(await accepts(port))) {
    if (failed !== undefined || child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`nats-server did not start on port ${port}: ${failed?.message ?? output}`);
    }
    await delay(20);
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    process: child,
    async stop(hard = false) {
      if (child.exitCode === null && child.signalCode === null) signal(child.pid!, hard ? "SIGKILL" : "SIGTERM");
      await exited;
    },
  };
}

/**
 * Starts nats-server as {@linkcode startNatsServer} does, with the configuration text `config` (a file in a
 * temporary folder, removed when the server stops).
 */
export async function startConfiguredNatsServer(config: string): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), "procpool-nats-"));
  const file = join(dir, "server.conf");
  writeFileSync(file, config);
  let server: NatsServer;
  try {
    server = await startNatsServer(["-c", file]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...server,
    async stop(hard?: boolean) {
      await server.stop(hard);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A running agent process. */
export interface AgentProcess {
  readonly process: ChildProcess;
  readonly pid: number;
  /** What it printed on stderr so far. */
  readonly log: () => string;
  /** Kills it (SIGCONT first, in case it was stopped) and waits until it exited. */
  stop(): Promise<void>;
}

/** The folder of the test task modules, which the agents are allowed to run. */
export const TASKS_DIR = new URL("./tasks/", import.meta.url);

/**
 * Starts `agent.ts` with this runtime, with `args` after `--servers URL`, and waits for "procpool agent ready".
 */
export function startAgentProcess(url: string, args: string[]): Promise<AgentProcess> {
  const [command, argv] = runtimeCommand(`${repoRoot}agent.ts`, ["--servers", url, ...args]);
  return agentReady(spawn(command, argv, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] }));
}

/**
 * Waits until an agent started with its stdout and stderr piped (`child`) prints "procpool agent ready", and
 * returns it; kills it and rejects, with what it printed, when it exits first or is not ready within `ms`.
 */
export async function agentReady(child: ChildProcess, ms = 15_000): Promise<AgentProcess> {
  let stderr = "";
  let stdout = "";
  child.stderr!.on("data", (chunk) => stderr += chunk);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`agent not ready within ${ms / 1000} s:\n${stdout}\n${stderr}`));
    }, ms);
    child.stdout!.on("data", (chunk) => {
      stdout += chunk;
      if (stdout.includes("procpool agent ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (${code ?? signal}) before it was ready:\n${stdout}\n${stderr}`));
    });
  });
  return {
    process: child,
    pid: child.pid!,
    log: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // A signal to the pid, not child.kill(): on Deno a child that was sent one signal refuses the next.
      signal(child.pid!, "SIGCONT");
      signal(child.pid!, "SIGKILL");
      await exited;
    },
  };
}

/** Sends `name` to process `pid`; false when it is gone. */
export function signal(pid: number, name: string): boolean {
  try {
    (globalThis as unknown as { process: { kill(pid: number, signal: string): void } }).process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/** Whether process `pid` is alive (signal 0 probes it). */
export function isAlive(pid: number): boolean {
  try {
    (globalThis as unknown as { process: { kill(pid: number, signal: number): void } }).process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `condition` every 25 ms until it holds or `ms` passed; returns whether it held. */
export async function eventually(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await delay(25);
  }
  return true;
}

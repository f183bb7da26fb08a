// The NATS backend against servers that want credentials (user and password, a token, a JWT .creds file) or TLS,
// and with several servers: the agent's flags and natsBackend's options reach the client, a task runs, and wrong
// credentials fail at once with a clear error.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { credsAuthenticator } from "@nats-io/transport-node";
import { BrokenProcessPool, ProcessPoolExecutor } from "../mod.ts";
import { natsBackend, type NatsBackendOptions } from "../nats.ts";
import { runtime, taskModule } from "./_backends.ts";
import {
  type AgentProcess,
  freePort,
  type NatsServer,
  signal,
  startAgentProcess,
  startNatsServer,
  TASKS_DIR,
} from "./_nats.ts";
import { jwtOperator, seedOf } from "./_nats_jwt.ts";
import { repoRoot, runScript } from "./_scripts.ts";
import * as basic from "./tasks/basic.ts";

const LONG = { timeout: 60_000 };
// Refused credentials are answered at once; the bound leaves room for a loaded machine, not for a retry loop.
const FAILS_WITHIN_MS = 5000;

const cleanups: (() => Promise<void> | void)[] = [];

async function server(args: string[]): Promise<NatsServer> {
  const started = await startNatsServer(args);
  cleanups.push(() => started.stop());
  return started;
}

// An agent of pool "auth" for `servers`, with the credential flags in `flags`.
async function agent(servers: string, flags: string[]): Promise<AgentProcess> {
  const started = await startAgentProcess(servers, [
    "--pool",
    "auth",
    "--workers",
    "1",
    "--backend",
    "process",
    "--allow-module",
    TASKS_DIR.href,
    ...flags,
  ]);
  cleanups.push(() => started.stop());
  return started;
}

function pool(options: NatsBackendOptions): ProcessPoolExecutor {
  return new ProcessPoolExecutor({ module: taskModule("basic.ts"), backend: natsBackend(options), maxWorkers: 1 });
}

// A task runs through the agent, and the pool shuts down.
async function runsATask(options: NatsBackendOptions): Promise<void> {
  const executor = pool(options);
  try {
    assert.equal(await executor.submit(basic.double, 21).result(30_000), 42);
  } finally {
    await executor.shutdown();
  }
}

// The pool breaks within the bound, and the cause chain says that authentication failed.
async function refused(options: NatsBackendOptions): Promise<void> {
  const executor = pool(options);
  const started = Date.now();
  const error = await executor.submit(basic.double, 1).exception(FAILS_WITHIN_MS * 4);
  const ms = Date.now() - started;
  assert.ok(error instanceof BrokenProcessPool, `expected BrokenProcessPool, got ${error}`);
  assert.ok(ms < FAILS_WITHIN_MS, `the pool broke after ${ms} ms`);
  assert.match(causes(error), /authentication failed/);
  await executor.shutdown();
}

function causes(error: unknown): string {
  const lines: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) lines.push(`${e.name}: ${e.message}`);
  return lines.join("\n  caused by ");
}

// An agent with wrong credentials exits with code 1 at once, saying why.
async function agentRefused(servers: string, flags: string[]): Promise<void> {
  const finished = await runScript(
    `${repoRoot}agent.ts`,
    ["--servers", servers, "--pool", "auth", "--allow-module", TASKS_DIR.href, ...flags],
    20_000,
  );
  assert.equal(finished.code, 1, `agent: code ${finished.code} signal ${finished.signal}\n${finished.stderr}`);
  assert.match(finished.stderr, /procpool agent: cannot start: authentication failed/);
}

// A certificate authority and a server certificate for 127.0.0.1, made with openssl for this run.
function tlsFiles(): { ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "procpool-tls-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string) => join(dir, name);
  const openssl = (args: string[]) => {
    try {
      execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
    } catch (error) {
      throw new Error(`openssl ${args[0]} failed (the TLS test needs openssl on the PATH): ${error}`);
    }
  };
  openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=procpool test CA",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.pem"),
  ]);
  openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
  ]);
  openssl([
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    writeExt(file("server.ext")),
    "-out",
    file("server.pem"),
  ]);
  return { ca: file("ca.pem"), cert: file("server.pem"), key: file("server.key") };
}

// Both names: the client verifies a server it reaches by IP address (nats://127.0.0.1:…) under the name
// "localhost" (@nats-io/transport-node 3.3.1 gives Node's TLS no server name for an IP, and Node falls back to it).
function writeExt(path: string): string {
  writeFileSync(path, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  return path;
}

// The connect options that make natsBackend log in with a .creds file, as the agent's --creds does.
function creds(file: string): NatsBackendOptions["connectOptions"] {
  return { authenticator: credsAuthenticator(readFileSync(file)) };
}

/**
 * A server in operator mode (decentralized JWT auth) with an operator, account and users made for this run, and
 * .creds files for it: `good`, a user of the account the server knows; `unknownAccount`, a user of an account the
 * operator signed but the server was never given; `wrongSeed`, the good user's JWT with another user's seed, which
 * signs the server's nonce with the wrong key.
 */
async function jwtServer(): Promise<{ nats: NatsServer; good: string; unknownAccount: string; wrongSeed: string }> {
  const operator = jwtOperator();
  cleanups.push(() => operator.remove());
  const account = operator.account("procpool");
  const user = operator.user(account, "procpool user");
  const stranger = operator.user(operator.account("not on the server"), "stranger");
  const nats = await server(["-c", operator.serverConfig([account])]);
  return {
    nats,
    good: operator.credsFile("good.creds", user.jwt, seedOf(user.keys)),
    unknownAccount: operator.credsFile("unknown_account.creds", stranger.jwt, seedOf(stranger.keys)),
    wrongSeed: operator.credsFile("wrong_seed.creds", user.jwt, seedOf(stranger.keys)),
  };
}

describe(`NATS backend: credentials, TLS and several servers (${runtime})`, () => {
  after(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("a server with --user/--pass: the agent and the pool log in with them and a task runs", LONG, async () => {
    const nats = await server(["--user", "procpool", "--pass", "s3cret"]);
    await agent(nats.url, ["--user", "procpool", "--pass", "s3cret"]);
    await runsATask({ servers: nats.url, pool: "auth", user: "procpool", pass: "s3cret" });
  });

  it(
    "a server with --user/--pass: a wrong password breaks the pool at once, saying authentication failed",
    LONG,
    async () => {
      const nats = await server(["--user", "procpool", "--pass", "s3cret"]);
      await refused({ servers: nats.url, pool: "auth", user: "procpool", pass: "wrong" });
      await refused({ servers: nats.url, pool: "auth" });
      await agentRefused(nats.url, ["--user", "procpool", "--pass", "wrong"]);
    },
  );

  it(
    "ten refused logins in a row each fail with authentication failed, and nothing is left uncaught",
    LONG,
    async () => {
      // On Deno the server's reset of a refused connection surfaced as an uncaught ECONNRESET that ended the program
      // (src/nats/connection.ts now guards the client's sockets); ten attempts hit it reliably. In a program of its
      // own: Deno's node:test lets an uncaught error pass without failing the test.
      const nats = await server(["--user", "procpool", "--pass", "s3cret"]);
      const finished = await runScript(
        `${repoRoot}conformance/tasks/nats_refused_script.ts`,
        [nats.url, "procpool", "wrong"],
        30_000,
      );
      assert.equal(finished.code, 0, `code ${finished.code} signal ${finished.signal}\n${finished.stderr}`);
      assert.equal(finished.stdout.trim(), "refused 10", finished.stderr);
    },
  );

  it("a server with --auth TOKEN: the agent and the pool pass the token and a task runs", LONG, async () => {
    const nats = await server(["--auth", "t0ken-procpool"]);
    await agent(nats.url, ["--token", "t0ken-procpool"]);
    await runsATask({ servers: nats.url, pool: "auth", token: "t0ken-procpool" });
  });

  it(
    "a server with --auth TOKEN: a wrong token breaks the pool at once, saying authentication failed",
    LONG,
    async () => {
      const nats = await server(["--auth", "t0ken-procpool"]);
      await refused({ servers: nats.url, pool: "auth", token: "not-the-token" });
      await agentRefused(nats.url, ["--token", "not-the-token"]);
    },
  );

  it(
    "a server in operator (JWT) mode: the agent (--creds --relay) and the pool log in with a .creds file",
    LONG,
    async () => {
      const { nats, good } = await jwtServer();
      const started = await agent(nats.url, ["--creds", good, "--relay"]);
      assert.match(started.log(), /relay mode/);
      await runsATask({ servers: nats.url, pool: "auth", connectOptions: creds(good) });
    },
  );

  it(
    "a server in operator (JWT) mode, the agent direct: each worker process logs in with the .creds file itself",
    LONG,
    async () => {
      const { nats, good } = await jwtServer();
      const started = await agent(nats.url, ["--creds", good]);
      assert.match(started.log(), /direct mode/);
      // A long silence before the agent counts as dead: the agent is frozen on purpose below.
      const executor = new ProcessPoolExecutor({
        module: taskModule("basic.ts"),
        backend: natsBackend({ servers: nats.url, pool: "auth", connectOptions: creds(good), deadAfterMs: 10_000 }),
        maxWorkers: 1,
      });
      try {
        const pid = await executor.submit(basic.pid).result(30_000);
        // The agent answers a spawn request in direct mode only once the worker is on NATS with its own login.
        assert.match(started.log(), new RegExp(`pid ${pid}, direct\\) started`));
        // With the agent stopped, only the worker's own connection can carry the task and its result.
        signal(started.pid, "SIGSTOP");
        try {
          assert.equal(await executor.submit(basic.double, 21).result(5000), 42);
        } finally {
          signal(started.pid, "SIGCONT");
        }
      } finally {
        await executor.shutdown();
      }
    },
  );

  it(
    "a server in operator (JWT) mode: a user of an unknown account, or a wrong seed, breaks the pool at once, saying authentication failed",
    LONG,
    async () => {
      const { nats, unknownAccount, wrongSeed } = await jwtServer();
      await refused({ servers: nats.url, pool: "auth", connectOptions: creds(unknownAccount) });
      await refused({ servers: nats.url, pool: "auth", connectOptions: creds(wrongSeed) });
      await refused({ servers: nats.url, pool: "auth" });
      await agentRefused(nats.url, ["--creds", unknownAccount]);
      await agentRefused(nats.url, ["--creds", wrongSeed]);
    },
  );

  it("two servers, the first unreachable: the agent and the pool connect to the second", LONG, async () => {
    const nats = await server([]);
    const unreachable = `nats://127.0.0.1:${await freePort()}`;
    await agent(`${unreachable},${nats.url}`, []);
    await runsATask({ servers: [unreachable, nats.url], pool: "auth" });
  });

  it(
    "a server with TLS: the agent (--tls-ca) and the pool (connectOptions.tls) verify it and a task runs",
    LONG,
    async () => {
      const files = tlsFiles();
      const nats = await server(["--tls", "--tlscert", files.cert, "--tlskey", files.key]);
      await agent(nats.url, ["--tls-ca", files.ca]);
      await runsATask({ servers: nats.url, pool: "auth", connectOptions: { tls: { caFile: files.ca } } });
    },
  );
});

// The agent's command line: flags, credentials and TLS files, signals, and the "ready" line.

import { availableParallelism, hostname } from "node:os";
import { resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { NodeConnectionOptions } from "@nats-io/transport-node";
import { startAgent } from "./agent.ts";

const USAGE = `usage: agent.ts --servers URL[,URL] [--pool NAME] [--workers N] [--backend auto|process|worker]
                [--relay] --allow-module DIR|URL-prefix [--allow-module …]
                [--user U --pass P | --token T | --creds FILE] [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]
                [--heartbeat-ms N]

Worker processes (--backend process, the default on Node) talk to NATS themselves, with the agent's connection
settings, each on a thread of its own that keeps the connection alive while a task runs; the agent starts,
watches and stops them. With --relay (and always for thread workers) the agent carries every frame between NATS
and its workers instead: one hop more each way. --direct, the default for process workers, is accepted.`;

/** A module prefix from a flag: a URL as given, a folder as its file URL ending in "/". */
export function modulePrefix(value: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return new URL(value).href;
  const href = pathToFileURL(resolve(value)).href;
  return href.endsWith("/") ? href : `${href}/`;
}

function fail(message: string): never {
  console.error(`procpool agent: ${message}\n${USAGE}`);
  process.exit(2);
}

/** Runs the agent with the process's arguments until SIGINT or SIGTERM. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        servers: { type: "string" },
        pool: { type: "string", default: "default" },
        workers: { type: "string" },
        backend: { type: "string", default: "auto" },
        direct: { type: "boolean", default: false },
        relay: { type: "boolean", default: false },
        "allow-module": { type: "string", multiple: true, default: [] },
        user: { type: "string" },
        pass: { type: "string" },
        token: { type: "string" },
        creds: { type: "string" },
        "tls-ca": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "heartbeat-ms": { type: "string", default: "250" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.servers === undefined) fail("--servers is required");
  if (values.direct && values.relay) fail("--direct and --relay exclude each other");
  const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
  if (!Number.isSafeInteger(workers) || workers < 1) {
    fail(`--workers must be a positive integer, got ${values.workers}`);
  }
  const heartbeatMs = Number(values["heartbeat-ms"]);
  if (!(heartbeatMs > 0)) fail(`--heartbeat-ms must be a positive number, got ${values["heartbeat-ms"]}`);
  const backend = values.backend;
  if (backend !== "auto" && backend !== "process" && backend !== "worker") {
    fail(`--backend must be auto, process or worker, got ${backend}`);
  }
  const connectOptions: Partial<NodeConnectionOptions> = {};
  if (values["tls-ca"] !== undefined || values["tls-cert"] !== undefined) {
    connectOptions.tls = {
      ...(values["tls-ca"] === undefined ? {} : { caFile: values["tls-ca"] }),
      ...(values["tls-cert"] === undefined ? {} : { certFile: values["tls-cert"] }),
      ...(values["tls-key"] === undefined ? {} : { keyFile: values["tls-key"] }),
    };
  }
  let agent;
  try {
    agent = await startAgent({
      servers: values.servers.split(",").map((s) => s.trim()).filter((s) => s !== ""),
      user: values.user,
      pass: values.pass,
      token: values.token,
      credsFile: values.creds,
      connectOptions,
      pool: values.pool,
      workers,
      backend,
      direct: !values.relay,
      allowModules: values["allow-module"].map(modulePrefix),
      host: hostname(),
      pid: process.pid,
      heartbeatMs,
      log: (line) => console.error(`procpool agent: ${line}`),
    });
  } catch (error) {
    console.error(`procpool agent: cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
  const stop = async () => {
    await agent.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  console.log("procpool agent ready");
}

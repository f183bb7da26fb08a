// Scenario: procpool through NATS against raw NATS request/reply, same client, same server, same machine, in one
// process. Two remote worker processes on each side: an agent with `--workers 2 --backend process` for procpool,
// two queue-group responders for raw. Measures: 20,000 submits all in flight (tasks/s), single-task latency (p50
// of sequential round trips), and map(chunksize=1000) over 100,000 items (items/s). Rounds alternate the two.
// Starts its own nats-server and agent; prints a table and one JSON line.
//
// The agent's worker processes talk to NATS themselves (its default) unless `direct=0` (then it runs with --relay).
//
//   node --import tsx bench/scenarios/nats.ts [rounds=5] [tasks=20000] [trips=1000] [agentBackend=process|worker]
//     [direct=1|0]

import { spawn } from "node:child_process";
import { connect } from "@nats-io/transport-node";
import { ProcessPoolExecutor } from "../../mod.ts";
import { natsBackend } from "../../nats.ts";
import { startAgentProcess, startNatsServer } from "../../conformance/_nats.ts";
import { repoRoot, runtimeCommand } from "../../conformance/_scripts.ts";
import { emit, integer, parseArgs, runtimeName, TASKS_URL } from "../_common.ts";
import { median } from "../stats.ts";
import { inc } from "../tasks.ts";

const args = parseArgs();
const rounds = integer(args, "rounds", 5);
const tasks = integer(args, "tasks", 20_000);
const trips = integer(args, "trips", 1_000);
const items = 100_000;
// How the agent runs its two workers: processes (as the raw side's responders are) or threads.
const agentBackend = args.agentBackend === "worker" ? "worker" : "process";
const direct = args.direct !== "0";

const server = await startNatsServer();
const agent = await startAgentProcess(server.url, [
  "--pool",
  "bench",
  "--workers",
  "2",
  "--backend",
  agentBackend,
  "--allow-module",
  new URL("..", import.meta.url).href,
  ...(direct ? [] : ["--relay"]),
]);
const SUBJECT = "raw.inc";
const responders = await Promise.all([0, 1].map(async () => {
  const [command, argv] = runtimeCommand(`${repoRoot}bench/raw/nats_echo.ts`, [server.url, SUBJECT]);
  const child = spawn(command, argv, { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      if (out.includes("raw echo ready")) resolve();
    });
  });
  return child;
}));

const pool = new ProcessPoolExecutor({
  module: TASKS_URL,
  maxWorkers: 2,
  backend: natsBackend({ servers: server.url, pool: "bench" }),
});
const nc = await connect({ servers: server.url });
const decoder = new TextDecoder();
// Raw request/reply as a fast client does it: one inbox subscription for every answer, requests matched by id (no
// timer or subscription per request, as nc.request() has), so that the baseline is the transport, not the helper.
const inbox = `_INBOX.bench.${Date.now()}`;
const waiting = new Map<number, (value: number) => void>();
nc.subscribe(inbox, {
  callback: (_error, msg) => {
    const [id, value] = JSON.parse(decoder.decode(msg.data)) as [number, number];
    waiting.get(id)?.(value);
    waiting.delete(id);
  },
});
await nc.flush();
let nextId = 0;
const rawCall = (x: number): Promise<number> =>
  new Promise((resolve) => {
    const id = nextId++;
    waiting.set(id, resolve);
    nc.publish(SUBJECT, JSON.stringify([id, x]), { reply: inbox });
  });
const procpoolCall = (x: number): Promise<number> => pool.submit(inc, x).result() as Promise<number>;

async function throughput(call: (x: number) => Promise<number>): Promise<number> {
  const start = performance.now();
  const all: Promise<number>[] = [];
  for (let i = 0; i < tasks; i++) all.push(call(i));
  const results = await Promise.all(all);
  const seconds = (performance.now() - start) / 1000;
  if (results[tasks - 1] !== tasks) throw new Error("wrong result");
  return tasks / seconds;
}

async function latency(call: (x: number) => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < trips; i++) {
    const start = performance.now();
    await call(i);
    times.push((performance.now() - start) * 1000);
  }
  return median(times);
}

async function mapRate(): Promise<number> {
  const start = performance.now();
  let n = 0;
  for await (const _ of pool.map(inc, Array.from({ length: items }, (_, i) => i), { chunksize: 1000 })) n++;
  return n / ((performance.now() - start) / 1000);
}

// Warm-up: workers started, code paths compiled.
await throughput(procpoolCall);
await throughput(rawCall);
const samples = { submitProcpool: [] as number[], submitRaw: [] as number[], latencyProcpool: [] as number[] };
const more = { latencyRaw: [] as number[], map1000: [] as number[] };
for (let r = 0; r < rounds; r++) {
  const first = r % 2 === 0;
  if (first) samples.submitProcpool.push(await throughput(procpoolCall));
  samples.submitRaw.push(await throughput(rawCall));
  if (!first) samples.submitProcpool.push(await throughput(procpoolCall));
  if (first) samples.latencyProcpool.push(await latency(procpoolCall));
  more.latencyRaw.push(await latency(rawCall));
  if (!first) samples.latencyProcpool.push(await latency(procpoolCall));
  more.map1000.push(await mapRate());
}
await pool.shutdown();
await nc.close();
for (const child of responders) child.kill("SIGKILL");
await agent.stop();
await server.stop();

const m = (xs: number[]) => median(xs);
const rows = [
  ["submit 20k, all in flight (tasks/s)", m(samples.submitProcpool), m(samples.submitRaw)],
  ["latency p50 (µs)", m(samples.latencyProcpool), m(more.latencyRaw)],
  ["map chunksize=1000 (items/s)", m(more.map1000), NaN],
] as const;
console.log(
  `procpool over NATS (agent workers: ${agentBackend}${
    direct ? ", direct" : ", relayed"
  }) vs raw NATS request/reply (${runtimeName()}, medians of ${rounds} rounds)`,
);
for (const [label, procpool, raw] of rows) {
  const ratio = Number.isNaN(raw) ? "" : `  ratio ${(procpool / raw).toFixed(2)}`;
  console.log(
    `  ${label.padEnd(40)} procpool ${procpool.toFixed(0).padStart(8)}  raw ${raw.toFixed(0).padStart(8)}${ratio}`,
  );
}
emit({ runtime: runtimeName(), agentBackend, direct, samples: { ...samples, ...more } });

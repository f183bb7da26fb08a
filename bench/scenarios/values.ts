// Scenario: big values (issue "big values"). Each value crosses to one worker and back, procpool against the raw
// transport of the same runtime and backend in the same process, rounds interleaved. Raw thread: a bare
// node:worker_threads Worker answering on a MessageChannel port, structured clone. Raw process: two bare forked children, one with JSON IPC (typed
// arrays as base64 text, their fastest JSON form) and one with `serialization: "advanced"`; for each value the
// faster of the two is the baseline. With `rss=1`, instead: the parent's peak RSS above idle while one 8 MB value
// crosses there and back (VmHWM from /proc, reset through /proc/self/clear_refs). Prints one JSON line.

import { fork } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { MessageChannel, Worker } from "node:worker_threads";
import { ProcessPoolExecutor, transfer } from "../../mod.ts";
import { choice, collectGarbage, emit, integer, parseArgs, rssKiB, sleep } from "../_common.ts";
import { consume, echo } from "../values_tasks.ts";

const args = parseArgs();
const backend = choice(args, "backend", ["process", "worker"] as const);
const rounds = integer(args, "rounds", 5);
const MODULE = new URL("../values_tasks.ts", import.meta.url);
const RAW = new URL("../raw/values_worker.mjs", import.meta.url);

type Op = "consume" | "echo";
interface Bare {
  readonly json: boolean;
  call(op: Op, value: unknown): Promise<unknown>;
  stop(): void;
}

// A bare thread with a MessageChannel port of its own, the transport procpool's threads use.
function bareThread(): Bare {
  const { port1: port, port2: theirs } = new MessageChannel();
  const worker = new Worker(RAW, { workerData: { port: theirs }, transferList: [theirs] });
  return {
    json: false,
    call: (op, value) =>
      new Promise((resolve) => {
        port.once("message", resolve);
        port.postMessage([op, value]);
      }),
    stop: () => {
      port.close();
      void worker.terminate();
    },
  };
}

function bareChild(serialization: "json" | "advanced"): Bare {
  const child = fork(fileURLToPath(RAW), [], { serialization, stdio: ["inherit", "inherit", "inherit", "ipc"] });
  const json = serialization === "json";
  return {
    json,
    call: (op, value) =>
      new Promise((resolve) => {
        child.once("message", (m) => resolve(json ? fromWire(m) : m));
        child.send([op, json ? toWire(value) : value, json]);
      }),
    stop: () => void child.kill("SIGKILL"),
  };
}

function toWire(value: unknown): unknown {
  if (!ArrayBuffer.isView(value)) return value;
  return {
    type: value.constructor.name,
    base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"),
  };
}

function fromWire(value: unknown): unknown {
  if (value === null || typeof value !== "object" || !("base64" in value)) return value;
  const wire = value as { type: string; base64: string };
  const View = (globalThis as unknown as Record<
    string,
    { new (b: ArrayBuffer, o: number, l: number): unknown; BYTES_PER_ELEMENT: number }
  >)[wire.type];
  const bytes = Buffer.from(wire.base64, "base64");
  return new View(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / View.BYTES_PER_ELEMENT);
}

function f64(): Float64Array {
  return new Float64Array(1 << 20).map((_, i) => i * 1.25);
}

interface Case {
  readonly name: string;
  readonly op: Op;
  readonly make: () => unknown;
  /** Calls per timed sample. */
  readonly repeat: number;
}

const CASES: Case[] = [
  { name: "f64in", op: "consume", make: f64, repeat: 3 },
  { name: "f64echo", op: "echo", make: f64, repeat: 3 },
  { name: "u8in64", op: "consume", make: () => new Uint8Array(64 << 20).fill(7), repeat: 1 },
  {
    name: "rows",
    op: "consume",
    make: () => Array.from({ length: 100_000 }, (_, i) => ({ x: i, y: i / 2 })),
    repeat: 1,
  },
  { name: "str1m", op: "consume", make: () => "procpool ".repeat(116_509).slice(0, 1 << 20), repeat: 10 },
];

const pool = new ProcessPoolExecutor({ module: MODULE, maxWorkers: 1, backend });
const fns = { consume, echo };

if (args.rss === "1") {
  // One worker up and warm, then the peak while an 8 MB value goes there and back.
  const value = f64();
  await pool.submit(echo, new Float64Array(1024)).result();
  await pool.submit(echo, value).result();
  collectGarbage();
  await sleep(100);
  collectGarbage();
  const idle = rssKiB();
  writeFileSync("/proc/self/clear_refs", "5");
  const back = await pool.submit(echo, value).result();
  const peak = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync("/proc/self/status", "utf8"))![1]);
  if ((back as Float64Array).length !== value.length) throw new Error("wrong echo");
  await pool.shutdown();
  emit({
    scenario: "values-rss",
    backend,
    unit: "MiB",
    valueMiB: value.byteLength / 2 ** 20,
    aboveIdle: (peak - idle) / 1024,
  });
  process.exit(0);
}

const bares: Bare[] = backend === "worker" ? [bareThread()] : [bareChild("json"), bareChild("advanced")];
const samples: Record<string, number[]> = {};
const record = (key: string, ms: number) => (samples[key] ??= []).push(ms);

async function time(repeat: number, call: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < repeat; i++) await call();
  return (performance.now() - start) / repeat;
}

const values = new Map(CASES.map((c) => [c.name, c.make()]));
for (let round = -1; round < rounds; round++) {
  // Round -1 warms every path up and checks the answers; it is not recorded.
  for (const c of CASES) {
    const value = values.get(c.name);
    const expected = c.op === "echo" ? undefined : consume(value as never);
    for (const bare of bares) {
      const ms = await time(c.repeat, async () => {
        const got = await bare.call(c.op, value);
        if (expected !== undefined && got !== expected) throw new Error(`raw ${c.name}: ${got} != ${expected}`);
      });
      if (round >= 0) record(`${c.name}:raw${bare.json ? "-json" : ""}`, ms);
    }
    const ms = await time(c.repeat, async () => {
      const got = await pool.submit(fns[c.op], value as never).result();
      if (expected !== undefined && got !== expected) throw new Error(`procpool ${c.name}: ${got} != ${expected}`);
    });
    if (round >= 0) record(`${c.name}:procpool`, ms);
  }
  if (backend === "worker") {
    // transfer(): a fresh array each call (made outside the timing), moved instead of copied.
    const fresh = Array.from({ length: 3 }, f64);
    const ms = await time(3, () => pool.submit(consume, transfer(fresh.pop()!)).result());
    if (round >= 0) record("f64transfer:procpool", ms);
  }
}
for (const bare of bares) bare.stop();
await pool.shutdown();
emit({ scenario: "values", backend, unit: "ms", samples });

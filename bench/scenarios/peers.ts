// Scenario (Node only): the peers' submit throughput. piscina, tinypool or workerpool with 2 worker threads
// runs the same 20,000 `inc` tasks, all submitted, then all awaited. Prints one JSON line.

import { checkResults, choice, emit, integer, parseArgs, range, timeRounds } from "../_common.ts";

const args = parseArgs();
const impl = choice(args, "impl", ["piscina", "tinypool", "workerpool"] as const);
const rounds = integer(args, "rounds", 5);
const tasks = integer(args, "tasks", 20_000);
const threads = 2;
const xs = range(tasks);
const taskWorker = new URL("../peers/task_worker.mjs", import.meta.url).href;

interface Peer {
  run(x: number): Promise<number>;
  close(): Promise<unknown>;
}

// workerpool ships no type declarations; its small surface is declared here.
interface WorkerpoolModule {
  pool(script: string, options: { workerType: "thread"; minWorkers: number; maxWorkers: number }): {
    exec(method: string, params: unknown[]): Promise<unknown>;
    terminate(): Promise<unknown>;
  };
}

async function open(): Promise<Peer> {
  switch (impl) {
    case "piscina": {
      const { Piscina } = await import("piscina");
      const pool = new Piscina({ filename: taskWorker, minThreads: threads, maxThreads: threads });
      return { run: (x) => pool.run(x), close: () => pool.destroy() };
    }
    case "tinypool": {
      const { Tinypool } = await import("tinypool");
      const pool = new Tinypool({ filename: taskWorker, minThreads: threads, maxThreads: threads });
      return { run: (x) => pool.run(x), close: () => pool.destroy() };
    }
    case "workerpool": {
      const specifier: string = "workerpool";
      const workerpool = ((await import(specifier)) as { default: WorkerpoolModule }).default;
      const script = new URL("../peers/workerpool_worker.mjs", import.meta.url).pathname;
      const pool = workerpool.pool(script, { workerType: "thread", minWorkers: threads, maxWorkers: threads });
      return { run: (x) => pool.exec("inc", [x]) as Promise<number>, close: () => pool.terminate() };
    }
  }
}

const peer = await open();
const samples = await timeRounds(rounds, async () => {
  checkResults(await Promise.all(xs.map((x) => peer.run(x))), tasks);
});
await peer.close();
emit({
  scenario: "submit",
  impl,
  backend: "worker",
  unit: "tasks/s",
  tasks,
  samples: samples.map((ms) => tasks / (ms / 1000)),
});

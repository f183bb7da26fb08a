// The raw transport baseline, parent side: bare workers of the same kind procpool uses (a forked child with a
// JSON IPC channel, or a node:worker_threads Worker), one message per task, no pool logic.

import { type ChildProcess, fork } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type BackendKind, runtimeName } from "../_common.ts";
import type { BareHello, BareReply, BareTask } from "./serve.ts";

const CHILD = fileURLToPath(new URL("./child.ts", import.meta.url));
// On Node a thread installs tsx first, exactly as src/runtime/thread_entry.mjs does; Deno and Bun run TS as is.
const THREAD = runtimeName() === "node"
  ? new URL("./thread.mjs", import.meta.url)
  : new URL("./thread.ts", import.meta.url);

/** One bare worker. */
export interface BareWorker {
  send(message: BareHello | BareTask): void;
  onMessage(listener: (message: BareReply | "ready") => void): void;
  stop(): Promise<void>;
}

/** Starts one bare worker of `kind`, spawned as procpool's backends spawn theirs. */
export function spawnBare(kind: BackendKind): BareWorker {
  return kind === "process" ? spawnChild() : spawnThread();
}

function spawnChild(): BareWorker {
  // The same fork options as src/runtime/node_child_process.ts: JSON serialization, the parent's flags minus
  // the test runner's and inspector's (so on Node the child gets `--import tsx`, as procpool's child does).
  const child: ChildProcess = fork(CHILD, [], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    execArgv: process.execArgv.filter((flag) => !/^--(test|inspect|watch|experimental-test)/.test(flag)),
    serialization: "json",
  });
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return {
    send: (message) => void child.send(message),
    onMessage: (listener) => void child.on("message", (m) => listener(m as BareReply | "ready")),
    stop() {
      child.kill("SIGKILL");
      return closed;
    },
  };
}

function spawnThread(): BareWorker {
  const worker = new Worker(THREAD);
  return {
    send: (message) => worker.postMessage(message),
    onMessage: (listener) => void worker.on("message", listener),
    async stop() {
      await worker.terminate();
    },
  };
}

/**
 * Bare workers used as a pool would be: `runAll` sends every task at once, round-robin, and resolves when every
 * reply is in; `call` is one round trip.
 */
export class RawPool {
  readonly #workers: BareWorker[] = [];
  readonly #kind: BackendKind;
  readonly #hello: BareHello;
  #onReply: (id: number, value: number) => void = () => {};

  /** Starts `size` bare workers of `kind`, each told to load `module` and to call its export `fn`. */
  constructor(kind: BackendKind, size: number, hello: BareHello) {
    this.#kind = kind;
    this.#hello = hello;
    for (let i = 0; i < size; i++) this.add();
  }

  /** Starts one more worker (as procpool starts its second worker only when there is work for it). */
  add(): void {
    const worker = spawnBare(this.#kind);
    worker.onMessage((message) => {
      if (message !== "ready") this.#onReply(message[0], message[1]);
    });
    worker.send(this.#hello);
    this.#workers.push(worker);
  }

  /** Sends `xs[i]` as task `i` to worker `i mod size`, all at once; resolves with the results in order. */
  runAll(xs: readonly number[]): Promise<number[]> {
    const results: number[] = new Array(xs.length);
    let left = xs.length;
    return new Promise((resolve) => {
      this.#onReply = (id, value) => {
        results[id] = value;
        if (--left === 0) resolve(results);
      };
      const workers = this.#workers;
      const n = workers.length;
      for (let i = 0; i < xs.length; i++) workers[i % n].send([i, xs[i]]);
    });
  }

  /**
   * One task, alone in flight, on the first worker: procpool, too, hands a lone task to its first idle worker,
   * and a worker that has just answered is faster to wake than one that has slept through the last trip.
   */
  call(x: number): Promise<number> {
    return new Promise((resolve) => {
      this.#onReply = (_id, value) => resolve(value);
      this.#workers[0].send([0, x]);
    });
  }

  /** Kills every worker; resolves once all have exited. */
  async stop(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.stop()));
  }
}

// The thread backend, parent side: workers are node:worker_threads Workers (Node; Deno and Bun have them too).
// The thread side is thread_entry.ts, kept apart so that a thread loads as little as it can.
//
// The pool talks to each thread over a MessageChannel of its own, handed over at start-up: `parentPort` is left to
// task code, and whatever task code posts there is not the pool's business (nothing listens to it).

import { availableParallelism } from "node:os";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { frameFormat, packFrame, unpackFrame } from "../framing.ts";
import type { ToWorker } from "../protocol.ts";
import type { Backend, BackendOptions, WorkerExit, WorkerHandle } from "./backend.ts";
import { currentRuntime, extname } from "./detect.ts";
import { threadExecArgv } from "./exec_argv.ts";

// The entry beside this file, with this file's extension (.ts from source, .js where a registry compiled it). On
// Node the thread starts in a small JavaScript file that installs tsx's TypeScript loader first (a worker does
// not inherit it) and then imports that entry; Deno and Bun run TypeScript themselves.
const ENTRY = new URL(`./thread_entry${extname(import.meta.url)}`, import.meta.url);
const NODE_BOOTSTRAP = new URL("./thread_entry.mjs", import.meta.url);

const FORMAT = frameFormat(currentRuntime(), "worker");

/** Creates the backend that starts one worker thread per worker. */
export function createBackend(_options: BackendOptions): Backend {
  const name = `${currentRuntime()}-worker`;
  return {
    name,
    defaultMaxWorkers: availableParallelism(),
    spawn(): WorkerHandle {
      const { port1: port, port2: theirs } = new MessageChannel();
      const workerData = { entry: ENTRY.href, port: theirs };
      const worker = currentRuntime() === "node"
        ? new Worker(NODE_BOOTSTRAP, { workerData, transferList: [theirs], execArgv: threadExecArgv() })
        : new Worker(ENTRY, { workerData, transferList: [theirs] });
      worker.unref();
      let exited = false;
      let failure: unknown;
      let messageListener: ((message: unknown) => void) | undefined;
      let exitListener: ((exit: WorkerExit) => void) | undefined;
      const closed = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.on("error", (error) => {
        failure = error;
      });
      worker.once("exit", (code) => {
        exited = true;
        // What the thread posted before it ended is delivered first, even if its port's events lag behind.
        for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
          messageListener?.(unpackFrame(m.message, FORMAT));
        }
        port.close();
        exitListener?.({ code, signal: null, error: failure });
      });
      return {
        id: worker.threadId,
        send(message: ToWorker) {
          if (!exited) port.postMessage(packFrame(message, FORMAT));
        },
        onMessage(listener) {
          messageListener = listener;
          port.on("message", (data) => listener(unpackFrame(data, FORMAT)));
          // A port with a "message" listener keeps the event loop alive; the pool decides that, not the port.
          port.unref();
        },
        onExit(listener) {
          exitListener = listener;
        },
        terminate() {
          if (exited) return Promise.resolve();
          void worker.terminate();
          return closed;
        },
      };
    },
  };
}

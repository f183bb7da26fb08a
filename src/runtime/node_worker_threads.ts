// The thread backend, parent side: workers are node:worker_threads Workers (Node; Deno and Bun have them too).
// The thread side is thread_entry.ts, kept apart so that a thread loads as little as it can.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { FromWorker, ToWorker } from "../protocol.ts";
import type { Backend, BackendOptions, WorkerExit, WorkerHandle } from "./backend.ts";
import { currentRuntime, extname } from "./detect.ts";

// The entry beside this file, with this file's extension (.ts from source, .js where a registry compiled it). On
// Node the thread starts in a small JavaScript file that installs tsx's TypeScript loader first (a worker does
// not inherit it) and then imports that entry; Deno and Bun run TypeScript themselves.
const ENTRY = new URL(`./thread_entry${extname(import.meta.url)}`, import.meta.url);
const NODE_BOOTSTRAP = new URL("./thread_entry.mjs", import.meta.url);

/** Creates the backend that starts one worker thread per worker. */
export function createBackend(_options: BackendOptions): Backend {
  const name = `${currentRuntime()}-worker`;
  return {
    name,
    defaultMaxWorkers: availableParallelism(),
    spawn(): WorkerHandle {
      const worker = currentRuntime() === "node"
        ? new Worker(NODE_BOOTSTRAP, { workerData: { entry: ENTRY.href } })
        : new Worker(ENTRY);
      worker.unref();
      let exited = false;
      let failure: unknown;
      let exitListener: ((exit: WorkerExit) => void) | undefined;
      const closed = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.on("error", (error) => {
        failure = error;
      });
      worker.once("exit", (code) => {
        exited = true;
        exitListener?.({ code, signal: null, error: failure });
      });
      return {
        id: worker.threadId,
        send(message: ToWorker) {
          if (!exited) worker.postMessage(message);
        },
        onMessage(listener) {
          worker.on("message", (message) => listener(message as FromWorker));
          // Node and Bun ref the worker again when a "message" listener is added: unref after it.
          worker.unref();
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

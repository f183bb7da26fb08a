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

// Node's and Deno's structured clone is slower than JSON text for procpool's messages (a chunk of 1,000 numbers
// makes a round trip 1.7× faster on Node and 2.8× on Deno as text, a lone task no slower), so there every message
// travels as its JSON text, both ways; Bun clones flat number arrays ~10× faster than it writes them as text.
const TEXT = currentRuntime() !== "bun";

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
          if (!exited) worker.postMessage(TEXT ? JSON.stringify(message) : message);
        },
        onMessage(listener) {
          worker.on("message", (message) => listener((TEXT ? JSON.parse(message) : message) as FromWorker));
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

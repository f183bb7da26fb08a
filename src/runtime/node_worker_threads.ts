// The thread backend, parent side: workers are node:worker_threads Workers (Node; Deno and Bun have them too).
// The thread side is thread_entry.ts, kept apart so that a thread loads as little as it can.
//
// The pool talks to each thread over a MessageChannel of its own, handed over at start-up: `parentPort` is left to
// task code, and whatever task code posts there is not the pool's business (nothing listens to it).

import { availableParallelism } from "node:os";
import process from "node:process";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { frameFormat, postFrame, unpackFrame } from "../framing.ts";
import type { Buffers, ToWorker } from "../protocol.ts";
import type { Backend, BackendOptions, WorkerExit, WorkerHandle } from "./backend.ts";
import { currentRuntime, extname } from "./detect.ts";
import { threadExecArgv } from "./exec_argv.ts";

// The entry beside this file, with this file's extension (.ts from source, .js where a registry compiled it). On
// Node the thread starts in a small JavaScript file that installs tsx's TypeScript loader first (a worker does
// not inherit it) and then imports that entry; Deno and Bun run TypeScript themselves.
const ENTRY = new URL(`./thread_entry${extname(import.meta.url)}`, import.meta.url);
const NODE_BOOTSTRAP = new URL("./thread_entry.mjs", import.meta.url);

const FORMAT = frameFormat(currentRuntime(), "worker");

// Starts a thread and hands it the pool's port. A Node thread inherits the parent's flags, which Node filters
// itself; only a parent running code given on its command line (`-e`, `--input-type`) needs a list of its own,
// and Node refuses process-wide flags (`--expose-gc`, …) in an explicit list: then the thread gets none (its
// bootstrap installs tsx by itself).
function startThread(): [Worker, MessagePort] {
  if (currentRuntime() !== "node") {
    return thread(ENTRY.protocol === "file:" ? ENTRY : remoteBootstrap(ENTRY), undefined);
  }
  const flags = threadExecArgv();
  if (flags.length === process.execArgv.length) return thread(NODE_BOOTSTRAP, undefined);
  try {
    return thread(NODE_BOOTSTRAP, flags);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_WORKER_INVALID_EXEC_ARGV") throw error;
    return thread(NODE_BOOTSTRAP, []);
  }
}

function thread(entry: URL, execArgv: string[] | undefined): [Worker, MessagePort] {
  const { port1: port, port2: theirs } = new MessageChannel();
  const workerData = { entry: ENTRY.href, port: theirs };
  return [new Worker(entry, { workerData, transferList: [theirs], execArgv }), port];
}

// A thread starts from a file or a data: URL only; procpool imported from a registry by URL (Deno with `jsr:` or
// `https:`) has its entry at an https: URL, which a one-line data: module imports.
function remoteBootstrap(entry: URL): URL {
  return new URL(`data:text/javascript,${encodeURIComponent(`import ${JSON.stringify(entry.href)};`)}`);
}

/** Creates the backend that starts one worker thread per worker. */
export function createBackend(_options: BackendOptions): Backend {
  const name = `${currentRuntime()}-worker`;
  return {
    name,
    defaultMaxWorkers: availableParallelism(),
    carriesBuffers: true,
    movesBuffers: true,
    spawn(): WorkerHandle {
      const [worker, port] = startThread();
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
        send(message: ToWorker, buffers?: Buffers) {
          if (!exited) postFrame(port, message, FORMAT, buffers);
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

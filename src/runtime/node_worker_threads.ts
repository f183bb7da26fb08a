// The thread backend, parent side: workers are node:worker_threads Workers (Node; Deno and Bun have them too).
// The thread side is thread_entry.ts, kept apart so that a thread loads as little as it can.
//
// The pool talks to each thread over a MessageChannel of its own, handed over at start-up: `parentPort` is left to
// task code, and whatever task code posts there is not the pool's business (nothing listens to it).

import { availableParallelism } from "node:os";
import process from "node:process";
import { MessageChannel, receiveMessageOnPort, type TransferListItem, Worker } from "node:worker_threads";
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

/**
 * Starts a thread that runs the module at `entry` (a .ts file from source, .js from a registry) with `data` as
 * its `workerData`, moving what `transfer` lists. On Node the thread starts in thread_entry.mjs, which installs
 * tsx's loader when types need it and then imports `workerData.entry`. A Node thread inherits the parent's flags,
 * which Node filters itself; only a parent running code given on its command line (`-e`, `--input-type`) needs a
 * list of its own, and Node refuses process-wide flags (`--expose-gc`, …) in an explicit list: then the thread
 * gets none.
 *
 * @example
 * ```ts
 * const { port1, port2 } = new MessageChannel();
 * const worker = startModuleThread(new URL("./my_thread.ts", import.meta.url), { port: port2 }, [port2]);
 * ```
 */
export function startModuleThread(
  entry: URL,
  data: Record<string, unknown>,
  transfer: TransferListItem[],
): Worker {
  const workerData = { ...data, entry: entry.href };
  const start = (file: URL, execArgv: string[] | undefined) =>
    new Worker(file, { workerData, transferList: transfer, execArgv });
  if (currentRuntime() !== "node") return start(entry.protocol === "file:" ? entry : remoteBootstrap(entry), undefined);
  const flags = threadExecArgv();
  if (flags.length === process.execArgv.length) return start(NODE_BOOTSTRAP, undefined);
  try {
    return start(NODE_BOOTSTRAP, flags);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_WORKER_INVALID_EXEC_ARGV") throw error;
    return start(NODE_BOOTSTRAP, []);
  }
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
      const { port1: port, port2: theirs } = new MessageChannel();
      const worker = startModuleThread(ENTRY, { port: theirs }, [theirs]);
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

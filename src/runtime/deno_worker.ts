// The Deno thread backend: node:worker_threads by default, a Deno Web Worker when permissions are restricted.
//
// Why node:worker_threads: a Deno Web Worker has no unref(), so a live one keeps Deno running and a script that
// forgets shutdown() would never end (R7.7); Deno's node:worker_threads Worker is the same kind of thread and
// has unref(). Only a Web Worker can run with fewer permissions than the parent, so that is what a pool with
// explicit `denoPermissions` gets (Deno needs --unstable-worker-options for it, and such a pool holds the
// process open until it is shut down).

import { frameFormat, postFrame, unpackFrame } from "../framing.ts";
import { type Buffers, EXITING, type FromWorker, type ToWorker } from "../protocol.ts";
import type { Backend, BackendOptions, ParentPort, WorkerExit, WorkerHandle } from "./backend.ts";
import { workerPermissions } from "./deno_permissions.ts";
import { extname } from "./detect.ts";
import { createBackend as createThreadBackend } from "./node_worker_threads.ts";

const ENTRY = new URL(`./deno_worker_entry${extname(import.meta.url)}`, import.meta.url);

// The few Web Messaging APIs used here, declared locally so that tsc needs no DOM library.
interface Port {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
}
interface DenoWorkerGlobal {
  close(): void;
  onmessage: ((event: { data: unknown; ports: readonly Port[] }) => void) | null;
}
const Channel = (globalThis as unknown as { MessageChannel: new () => { port1: Port; port2: Port } }).MessageChannel;

// Frames travel on a MessageChannel of the pool's own (handed over in the first message), as on every thread
// backend, so that `self.postMessage` is left to task code; as JSON text, like Deno's node:worker_threads.
const FORMAT = frameFormat("deno", "worker");

declare const Deno: { exit(code?: number): never };

// The few Web Worker APIs used here, declared locally so that tsc needs no DOM library.
interface WebWorker {
  postMessage(message: unknown, transfer: unknown[]): void;
  terminate(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { error?: unknown; message: string; preventDefault(): void }) => void) | null;
}
const WebWorker = (globalThis as unknown as {
  Worker: new (url: URL, options: { type: "module"; deno: { permissions: unknown } }) => WebWorker;
}).Worker;

let nextId = 1;

/** Creates the Deno thread backend for `options`. */
export function createBackend(options: BackendOptions): Backend {
  if (options.denoPermissions === "inherit") return createThreadBackend(options);
  const modulePath = options.module.startsWith("file:")
    ? decodeURIComponent(new URL(options.module).pathname)
    : undefined;
  const permissions = workerPermissions(options.denoPermissions, modulePath);
  const parallelism = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency ?? 1;
  return {
    name: "deno-worker",
    defaultMaxWorkers: parallelism,
    carriesBuffers: true,
    movesBuffers: true,
    spawn(): WorkerHandle {
      const id = nextId++;
      const worker = new WebWorker(ENTRY, { type: "module", deno: { permissions } });
      const { port1: port, port2: theirs } = new Channel();
      worker.postMessage(null, [theirs]);
      let exited = false;
      let exitListener: ((exit: WorkerExit) => void) | undefined;
      let messageListener: ((message: unknown) => void) | undefined;
      const end = (exit: WorkerExit) => {
        if (exited) return;
        exited = true;
        worker.terminate();
        port.close();
        exitListener?.(exit);
      };
      port.onmessage = (event) => {
        const frame = unpackFrame(event.data, FORMAT);
        messageListener?.(frame);
        // A Web Worker that closes itself sends no event: its entry announces every exit first.
        if (Array.isArray(frame) && frame[0] === EXITING) {
          end({ code: Number.isSafeInteger(frame[1]) ? frame[1] : 1, signal: null });
        }
      };
      worker.onerror = (event) => {
        event.preventDefault();
        end({ code: 1, signal: null, error: event.error ?? new Error(event.message) });
      };
      return {
        id,
        send(message: ToWorker, buffers?: Buffers) {
          if (!exited) postFrame(port, message, FORMAT, buffers);
        },
        onMessage(listener) {
          messageListener = listener;
        },
        onExit(listener) {
          exitListener = listener;
        },
        terminate() {
          end({ code: null, signal: "terminated" });
          return Promise.resolve();
        },
      };
    },
  };
}

/**
 * The Web Worker side: the port the parent hands over in its first message, with `Deno.exit` and `process.exit`
 * made to tell the parent first.
 */
export function webWorkerPort(): Promise<ParentPort> {
  const scope = globalThis as unknown as DenoWorkerGlobal;
  return new Promise((resolve) => {
    scope.onmessage = (event) => {
      scope.onmessage = null;
      resolve(portOver(scope, event.ports[0]));
    };
  });
}

function portOver(scope: DenoWorkerGlobal, port: Port): ParentPort {
  const send = (message: FromWorker, buffers?: Buffers) => postFrame(port, message, FORMAT, buffers);
  const exit = (code: number): never => {
    send([EXITING, code]);
    scope.close();
    throw new Error("worker closed");
  };
  const deno = (globalThis as unknown as { Deno: { exit: typeof Deno.exit } }).Deno;
  deno.exit = (code?: number) => exit(code ?? 0);
  const nodeProcess = (globalThis as { process?: { exit: (code?: number) => never } }).process;
  if (nodeProcess !== undefined) nodeProcess.exit = (code?: number) => exit(code ?? 0);
  return {
    carriesBuffers: true,
    movesBuffers: true,
    send,
    onMessage(listener) {
      port.onmessage = (event) => listener(unpackFrame(event.data, FORMAT));
    },
    exit(code: number) {
      send([EXITING, code]);
      scope.close();
    },
  };
}

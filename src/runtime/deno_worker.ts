// The Deno thread backend: node:worker_threads by default, a Deno Web Worker when permissions are restricted.
//
// Why node:worker_threads: a Deno Web Worker has no unref(), so a live one keeps Deno running and a script that
// forgets shutdown() would never end (R7.7); Deno's node:worker_threads Worker is the same kind of thread and
// has unref(). Only a Web Worker can run with fewer permissions than the parent, so that is what a pool with
// explicit `denoPermissions` gets (Deno needs --unstable-worker-options for it, and such a pool holds the
// process open until it is shut down).

import { EXITING, type FromWorker, type ToWorker } from "../protocol.ts";
import type { Backend, BackendOptions, ParentPort, WorkerExit, WorkerHandle } from "./backend.ts";
import { workerPermissions } from "./deno_permissions.ts";
import { extname } from "./detect.ts";
import { createBackend as createThreadBackend } from "./node_worker_threads.ts";

const ENTRY = new URL(`./deno_worker_entry${extname(import.meta.url)}`, import.meta.url);

interface DenoWorkerGlobal {
  close(): void;
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

declare const Deno: { exit(code?: number): never };

// The few Web Worker APIs used here, declared locally so that tsc needs no DOM library.
interface WebWorker {
  postMessage(message: unknown): void;
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
    spawn(): WorkerHandle {
      const id = nextId++;
      const worker = new WebWorker(ENTRY, { type: "module", deno: { permissions } });
      let exited = false;
      let exitListener: ((exit: WorkerExit) => void) | undefined;
      let messageListener: ((message: FromWorker) => void) | undefined;
      const end = (exit: WorkerExit) => {
        if (exited) return;
        exited = true;
        worker.terminate();
        exitListener?.(exit);
      };
      worker.onmessage = (event) => {
        const message = JSON.parse(event.data as string) as FromWorker;
        messageListener?.(message);
        // A Web Worker that closes itself sends no event: its entry announces every exit first.
        if (message[0] === EXITING) end({ code: message[1], signal: null });
      };
      worker.onerror = (event) => {
        event.preventDefault();
        end({ code: 1, signal: null, error: event.error ?? new Error(event.message) });
      };
      return {
        id,
        send(message: ToWorker) {
          if (!exited) worker.postMessage(JSON.stringify(message));
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

/** The Web Worker side: `self`, with `Deno.exit` and `process.exit` made to tell the parent first. */
export function webWorkerPort(): ParentPort {
  const scope = globalThis as unknown as DenoWorkerGlobal;
  // Messages travel as JSON text, as on Deno's node:worker_threads (see node_worker_threads.ts).
  const send = (message: FromWorker) => scope.postMessage(JSON.stringify(message));
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
    send,
    onMessage(listener) {
      scope.onmessage = (event) => listener(JSON.parse(event.data as string) as ToWorker);
    },
    exit(code: number) {
      send([EXITING, code]);
      scope.close();
    },
  };
}

// Entry point of a thread worker: serve the parent over the worker's parent port.

import process from "node:process";
import { parentPort } from "node:worker_threads";
import { EXITING, type FromWorker, type ToWorker } from "../protocol.ts";
import { serve } from "../worker_main.ts";

const port = parentPort!;
serve({
  send(message: FromWorker) {
    port.postMessage(message);
  },
  onMessage(listener) {
    port.on("message", (message) => listener(message as ToWorker));
  },
  exit(code: number) {
    port.postMessage([EXITING, code] satisfies FromWorker);
    process.exit(code);
  },
});

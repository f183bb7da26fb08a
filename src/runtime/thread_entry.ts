// Entry point of a thread worker: serve the parent over the worker's parent port.

import process from "node:process";
import { parentPort } from "node:worker_threads";
import { EXITING, type FromWorker, type ToWorker } from "../protocol.ts";
import { serve } from "../worker_main.ts";

// Messages travel as JSON text except on Bun (see TEXT in node_worker_threads.ts).
const text = !("Bun" in globalThis);
const port = parentPort!;
const send = (message: FromWorker) => port.postMessage(text ? JSON.stringify(message) : message);
serve({
  send,
  onMessage(listener) {
    port.on("message", (message) => listener((text ? JSON.parse(message) : message) as ToWorker));
  },
  exit(code: number) {
    send([EXITING, code]);
    process.exit(code);
  },
});

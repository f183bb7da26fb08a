// Entry point of a process worker: serve the parent over the IPC channel. A child whose parent went away exits.

import process from "node:process";
import { EXITING, type FromWorker, type ToWorker } from "../protocol.ts";
import { serve } from "../worker_main.ts";

// On Deno every message travels as its JSON text (see TEXT_CHANNEL in node_child_process.ts).
const text = "Deno" in globalThis;

process.on("disconnect", () => process.exit(0));
serve({
  send(message: FromWorker) {
    process.send!(text ? JSON.stringify(message) : message);
  },
  onMessage(listener) {
    process.on("message", (message) => listener((text ? JSON.parse(message as string) : message) as ToWorker));
  },
  exit(code: number) {
    const message: FromWorker = [EXITING, code];
    // The callback runs once the message, and so every one before it, has been written to the channel.
    process.send!(text ? JSON.stringify(message) : message, () => process.exit(code));
  },
});

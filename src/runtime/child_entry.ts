// Entry point of a process worker: serve the parent over the IPC channel. A child whose parent went away exits.

import process from "node:process";
import type { FromWorker, ToWorker } from "../protocol.ts";
import { serve } from "../worker_main.ts";

process.on("disconnect", () => process.exit(0));
serve({
  send(message: FromWorker) {
    process.send!(message);
  },
  onMessage(listener) {
    process.on("message", (message) => listener(message as ToWorker));
  },
  exit(code: number) {
    // The callback runs once the message, and so every one before it, has been written to the channel.
    process.send!({ kind: "exiting", code } satisfies FromWorker, () => process.exit(code));
  },
});

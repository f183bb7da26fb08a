// Entry point of a thread worker: serve the parent over the private port it handed over at start-up.

import process from "node:process";
import { type MessagePort, workerData } from "node:worker_threads";
import { frameFormat, postFrame, unpackFrame } from "../framing.ts";
import { type Buffers, EXITING, type FromWorker } from "../protocol.ts";
import { serve } from "../worker_main.ts";
import { hookExits } from "./exit_hooks.ts";
import { currentRuntime } from "./detect.ts";

const FORMAT = frameFormat(currentRuntime(), "worker");
const port = (workerData as { port: MessagePort }).port;
const send = (message: FromWorker, buffers?: Buffers) => postFrame(port, message, FORMAT, buffers);
hookExits(serve({
  carriesBuffers: true,
  movesBuffers: true,
  send,
  onMessage(listener) {
    port.on("message", (data) => listener(unpackFrame(data, FORMAT)));
  },
  exit(code: number) {
    send([EXITING, code]);
    process.exit(code);
  },
}));

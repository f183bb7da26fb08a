// A bare worker thread: the raw baseline's thread, served over node:worker_threads' parent port.

import { parentPort } from "node:worker_threads";
import { type BareHello, type BareReply, type BareTask, serveBare } from "./serve.ts";

const port = parentPort!;
serveBare(
  (message: BareReply | "ready") => port.postMessage(message),
  (listener: (message: BareHello | BareTask) => void) => port.on("message", listener),
);

// A bare process worker: the raw baseline's child. It loads the task module the way procpool's child does (a
// dynamic import of the URL the parent sends first), then answers each `[id, x]` message with `[id, inc(x)]`.

import process from "node:process";
import { type BareHello, type BareReply, type BareTask, serveBare } from "./serve.ts";

process.on("disconnect", () => process.exit(0));
serveBare(
  (message: BareReply | "ready") => process.send!(message),
  (listener: (message: BareHello | BareTask) => void) =>
    process.on("message", (m) => listener(m as BareHello | BareTask)),
);

// Entry point of a process worker: serve the parent over the IPC channel, or over the port a module named by
// PROCPOOL_PORT_MODULE opens. A child whose parent went away exits.

import process from "node:process";
import { FOREIGN, frameFormat, packFrame, unpackFrame } from "../framing.ts";
import { type Buffers, EXITING, type FromWorker } from "../protocol.ts";
import type { ParentPort, PortModule } from "./backend.ts";
import { serve } from "../worker_main.ts";
import { currentRuntime } from "./detect.ts";
import { hookExits } from "./exit_hooks.ts";
import { syncStdio } from "./sync_stdio.ts";
import { startWatchdog } from "./watchdog.ts";

// Before any task code writes: each write is done when write() returns, so no exit can drop output (R10.2).
syncStdio();

// The channel is task code's too: the pool's frames are marked (see framing.ts).
const FORMAT = frameFormat(currentRuntime(), "process");

process.on("disconnect", () => process.exit(0));
// A task that holds the main thread in a loop keeps "disconnect" from ever running; this thread does not (R7.6).
// The pool's pid comes as the first argument: process.ppid, read now, would already be the reaper's if the pool
// died while this child was starting.
startWatchdog(Number(process.argv[2]) || process.ppid);
const ipc: ParentPort = {
  carriesBuffers: true,
  send(message: FromWorker, buffers?: Buffers) {
    process.send!(packFrame(message, FORMAT, buffers?.asValue));
  },
  onMessage(listener) {
    process.on("message", (data) => {
      const frame = unpackFrame(data, FORMAT);
      if (frame !== FOREIGN) listener(frame);
    });
  },
  exit(code: number) {
    // The callback runs once the message, and so every one before it, has been written to the channel.
    process.send!(packFrame([EXITING, code], FORMAT), () => process.exit(code));
  },
};

// The port module (the NATS agent's direct mode: src/nats/worker_port.ts) is named by the process that started
// this one; task code does not see the variable.
const portModule = takePortModule();
if (portModule === undefined) hookExits(serve(ipc));
else {
  import(portModule)
    .then((module: PortModule) => module.openPort(ipc))
    .then((port) => hookExits(serve(port)), (error) => {
      console.error(`procpool worker: cannot open its port: ${(error as Error)?.message ?? error}`);
      ipc.exit(1);
    });
}

// The port module's URL, removed from the environment. A Deno worker without env permission (denoPermissions)
// cannot read the variable, and Deno throws rather than prompts (--no-prompt): such a worker serves over IPC, as
// every pool's does; only an agent's direct workers, which inherit its permissions, are given a port module.
function takePortModule(): string | undefined {
  try {
    const url = process.env.PROCPOOL_PORT_MODULE;
    if (url !== undefined) delete process.env.PROCPOOL_PORT_MODULE;
    return url;
  } catch {
    return undefined;
  }
}

// A direct worker's port: a worker process that an agent started talks to its parent through NATS itself, on its
// own connection, so that a frame takes the path a raw request/reply takes (no relay through the agent). The
// connection lives on a thread of the worker process (port_thread.ts), which answers the server's pings while a
// task holds the main thread: a task of any length keeps its connection.

import process from "node:process";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { FrameError } from "../framing.ts";
import { EXITING } from "../protocol.ts";
import type { ParentPort, PortModule } from "../runtime/backend.ts";
import { extname } from "../runtime/detect.ts";
import { hookExits } from "../runtime/exit_hooks.ts";
import { startModuleThread } from "../runtime/node_worker_threads.ts";
import { CONFIRMED, PORT_SETTINGS_ENV, PORT_SIGNAL, type PortSettings, PROGRESS } from "./wire.ts";

// The thread's module, beside this file with its extension (.ts, or .js from npm).
const PORT_THREAD = new URL(`./port_thread${extname(import.meta.url)}`, import.meta.url);

// An exit waits for the server to confirm that it has every frame sent before it, for as long as the NATS thread
// gets on with sending them (a large frame takes a while), and gives up after this long without progress.
const EXIT_QUIET_MS = 1000;
// How often the waiting exit looks at the thread's progress.
const EXIT_POLL_MS = 50;

// The settings, read once and removed from the environment: task code must not see the credentials.
function takeSettings(): PortSettings {
  const text = process.env[PORT_SETTINGS_ENV];
  delete process.env[PORT_SETTINGS_ENV];
  if (text === undefined) throw new Error(`${PORT_SETTINGS_ENV} is not set`);
  return JSON.parse(text) as PortSettings;
}

/**
 * Starts the NATS thread with the settings in `PROCPOOL_NATS_PORT`; once it has subscribed to the worker's `in`
 * subject, tells the agent over `control` and returns the port `serve()` uses: frames from `in`, frames to `out`.
 * Every exit, task code's `process.exit()` included, first waits until the server has the frames sent before it
 * (R8.1), as long as the thread gets on with sending them. JSON text carries no buffers: binary values travel as
 * base64.
 */
export const openPort: PortModule["openPort"] = async (control: ParentPort): Promise<ParentPort> => {
  const settings = takeSettings();
  const counters = new Int32Array(new SharedArrayBuffer(8));
  const { port1: port, port2: theirs } = new MessageChannel();
  const thread = startModuleThread(PORT_THREAD, { settings, port: theirs, shared: counters.buffer }, [theirs]);

  let listener: ((message: unknown) => void) | undefined;
  const early: unknown[] = [];
  let state: "opening" | "open" | "exiting" = "opening";
  let threadEnded = false;
  let opened: (why: string | undefined) => void;
  const open = new Promise<string | undefined>((resolve) => opened = resolve);

  // Before the port opens, a failure rejects openPort (the child then exits with code 1); after, it ends the
  // worker here, telling the agent why.
  const fail = (why: string): void => {
    if (state === "opening") opened(why);
    if (state !== "open") return;
    state = "exiting";
    console.error(`procpool worker: ${why}`);
    try {
      control.send([PORT_SIGNAL, "lost", why]);
      control.exit(1);
    } catch {
      // The channel to the agent is gone (it died): exit all the same.
      process.exit(1);
    }
  };
  const fromThread = (data: unknown): void => {
    if (typeof data === "string") {
      let message: unknown;
      try {
        message = JSON.parse(data);
      } catch (failure) {
        // serve()'s check throws it, and the worker exits.
        message = new FrameError(`text that is not JSON (${(failure as Error).message})`, data);
      }
      if (listener === undefined) early.push(message);
      else listener(message);
      return;
    }
    const [signal, why] = data as [string, string?];
    if (signal === "ready") opened(undefined);
    else if (signal === "failed") fail(why ?? "it could not connect");
    else if (signal === "lost") fail(why ?? "its NATS connection closed");
  };
  port.on("message", fromThread);
  thread.on("error", (error) => fail(`its NATS thread failed: ${(error as Error)?.message ?? error}`));
  thread.on("exit", () => {
    threadEnded = true;
    // What the thread posted before it ended (why it could not connect) comes first, even if its events lag.
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) fromThread(m.message);
    fail("its NATS thread ended");
  });

  const failure = await open;
  if (failure !== undefined) {
    state = "exiting";
    control.send([PORT_SIGNAL, "failed", failure]);
    throw new Error(failure);
  }

  // Every exit waits, with the main thread blocked, for the server's word that it has what was sent before: the
  // frames travel on the thread's socket, and an exit ends the thread wherever it is. Then, too, the agent's exit
  // report, which goes on the agent's own connection once this process is gone, comes after them. serve()'s own
  // hook, set after this one, runs first and sends the outcomes of the tasks that finished.
  let flushes = 0;
  hookExits(() => {
    if (threadEnded) return;
    const asked = ++flushes;
    port.postMessage(["flush", asked]);
    let progress = Atomics.load(counters, PROGRESS);
    let quietSince = Date.now();
    for (let done = Atomics.load(counters, CONFIRMED); done < asked; done = Atomics.load(counters, CONFIRMED)) {
      Atomics.wait(counters, CONFIRMED, done, EXIT_POLL_MS);
      const now = Atomics.load(counters, PROGRESS);
      if (now !== progress) {
        progress = now;
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= EXIT_QUIET_MS) break;
    }
  });

  const send = (message: unknown): void => port.postMessage(JSON.stringify(message));

  state = "open";
  control.send([PORT_SIGNAL, "ready"]);
  return {
    carriesBuffers: false,
    send,
    onMessage(next) {
      listener = next;
      for (const message of early.splice(0)) next(message);
    },
    exit(code: number) {
      if (state !== "open") return;
      state = "exiting";
      send([EXITING, code]);
      port.postMessage(["exiting"]);
      try {
        control.exit(code);
      } catch {
        // The channel to the agent is gone (it died): exit all the same.
        process.exit(code);
      }
    },
  };
};

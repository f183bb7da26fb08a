// The process backend, parent side: workers are child processes (fork on Node and Bun, `deno run` on Deno).
// The child side is child_entry.ts, kept apart so that a child loads as little as it can.

import { type ChildProcess, fork, spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { FOREIGN, frameFormat, packFrame, unpackFrame } from "../framing.ts";
import type { Buffers, ToWorker } from "../protocol.ts";
import type { Backend, BackendOptions, WorkerExit, WorkerHandle } from "./backend.ts";
import { permissionFlags } from "./deno_permissions.ts";
import { currentRuntime, extname } from "./detect.ts";
import { childExecArgv } from "./exec_argv.ts";

declare const Deno: { execPath(): string };

// The entry beside this file, with this file's extension: .ts from source, .js where a registry compiled it.
const ENTRY = new URL(`./child_entry${extname(import.meta.url)}`, import.meta.url);

const CLOSE_GRACE_MS = 500;

// The IPC channel is shared with task code (`process.send`): the pool's frames are marked, the rest is ignored.
const FORMAT = frameFormat(currentRuntime(), "process");

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

// Node and Bun fork themselves. Deno's fork would grant the child every permission, so on Deno the child is a
// `deno run` with the pool's permission flags, spawned with the same IPC channel fork sets up.
function startChild(options: BackendOptions): ChildProcess {
  const stdio: ["inherit", "inherit", "inherit", "ipc"] = ["inherit", "inherit", "inherit", "ipc"];
  const env = options.env === undefined ? undefined : { ...process.env, ...options.env };
  if (currentRuntime() === "deno") {
    const modulePath = options.module.startsWith("file:") ? fileURLToPath(options.module) : undefined;
    const flags = permissionFlags(options.denoPermissions, modulePath);
    // `deno run` takes the entry by URL when procpool came from a registry (`jsr:`, `https:`).
    const entry = ENTRY.protocol === "file:" ? fileURLToPath(ENTRY) : ENTRY.href;
    return spawn(Deno.execPath(), ["run", ...flags, entry, String(process.pid)], {
      stdio,
      serialization: "advanced",
      env,
    });
  }
  const entry = fileURLToPath(ENTRY);
  return fork(entry, [String(process.pid)], { stdio, execArgv: childExecArgv(), serialization: "advanced", env });
}

/** Creates the backend that starts one child process per worker. */
export function createBackend(options: BackendOptions): Backend {
  const name = `${currentRuntime()}-process`;
  return {
    name,
    defaultMaxWorkers: availableParallelism(),
    // The channel serialises with V8 (see startChild): buffers travel as bytes, copied.
    carriesBuffers: true,
    spawn(): WorkerHandle {
      const child = startChild(options);
      live.add(child);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        // No child outlives the parent: kill what is left when the parent exits.
        process.once("exit", () => {
          for (const c of live) c.kill("SIGKILL");
        });
      }
      child.unref();
      (child.channel as { unref?: () => void } | undefined)?.unref?.();
      let exited = false;
      let failure: unknown;

      let exitListener: ((exit: WorkerExit) => void) | undefined;
      let markClosed: () => void;
      const closed = new Promise<void>((resolve) => markClosed = resolve);
      const finish = (exit: WorkerExit) => {
        if (exited) return;
        exited = true;
        live.delete(child);
        markClosed();
        exitListener?.(exit);
      };
      // "close" comes after the IPC channel closed, so every message has been delivered by then. Deno may
      // report only "exit" when a write to the child failed: then give the channel a moment, and finish anyway.
      child.once("close", (code, signal) => finish({ code, signal, error: failure }));
      child.once("exit", (code, signal) => {
        setTimeout(() => finish({ code, signal, error: failure }), CLOSE_GRACE_MS).unref?.();
      });
      child.on("error", (error) => {
        failure = error;
        if (child.pid === undefined) finish({ code: null, signal: null, error });
      });
      return {
        id: child.pid ?? -1,
        send(message: ToWorker, buffers?: Buffers) {
          if (exited || !child.connected) return;
          // No callback: a failed write surfaces as the child's "error" event, and its exit follows.
          child.send(packFrame(message, FORMAT, buffers?.asValue) as string);
        },
        onMessage(listener) {
          child.on("message", (data) => {
            const frame = unpackFrame(data, FORMAT);
            if (frame !== FOREIGN) listener(frame);
          });
        },
        onExit(listener) {
          exitListener = listener;
        },
        terminate() {
          if (!exited) child.kill("SIGKILL");
          return exited ? Promise.resolve() : closed;
        },
      };
    },
  };
}

// The process backend, parent side: workers are child processes (fork on Node and Bun, `deno run` on Deno).
// The child side is child_entry.ts, kept apart so that a child loads as little as it can.

import { type ChildProcess, fork, spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { FromWorker, ToWorker } from "../protocol.ts";
import type { Backend, BackendOptions, WorkerExit, WorkerHandle } from "./backend.ts";
import { permissionFlags } from "./deno_permissions.ts";
import { currentRuntime, extname } from "./detect.ts";

declare const Deno: { execPath(): string };

// The entry beside this file, with this file's extension: .ts from source, .js where a registry compiled it.
const ENTRY = fileURLToPath(new URL(`./child_entry${extname(import.meta.url)}`, import.meta.url));

const CLOSE_GRACE_MS = 500;

// Deno's IPC channel carries one string far faster than the same data as a tree of values (a chunk of 1,000
// numbers makes a round trip about 3× faster), so on Deno every message travels as its JSON text, both ways.
const TEXT_CHANNEL = currentRuntime() === "deno";

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

// Flags of the parent that a worker must not repeat: the test runner's and the inspector's.
function childExecArgv(): string[] {
  return process.execArgv.filter((flag) => !/^--(test|inspect|watch|experimental-test)/.test(flag));
}

// Node and Bun fork themselves. Deno's fork would grant the child every permission, so on Deno the child is a
// `deno run` with the pool's permission flags, spawned with the same IPC channel fork sets up.
function startChild(options: BackendOptions): ChildProcess {
  const stdio: ["inherit", "inherit", "inherit", "ipc"] = ["inherit", "inherit", "inherit", "ipc"];
  if (currentRuntime() === "deno") {
    const modulePath = options.module.startsWith("file:") ? fileURLToPath(options.module) : undefined;
    const flags = permissionFlags(options.denoPermissions, modulePath);
    return spawn(Deno.execPath(), ["run", ...flags, ENTRY], { stdio, serialization: "json" });
  }
  return fork(ENTRY, [], { stdio, execArgv: childExecArgv(), serialization: "json" });
}

/** Creates the backend that starts one child process per worker. */
export function createBackend(options: BackendOptions): Backend {
  const name = `${currentRuntime()}-process`;
  return {
    name,
    defaultMaxWorkers: availableParallelism(),
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
        send(message: ToWorker) {
          if (exited || !child.connected) return;
          // No callback: a failed write surfaces as the child's "error" event, and its exit follows.
          child.send(TEXT_CHANNEL ? JSON.stringify(message) : message);
        },
        onMessage(listener) {
          child.on("message", (message) => {
            listener((TEXT_CHANNEL ? JSON.parse(message as string) : message) as FromWorker);
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

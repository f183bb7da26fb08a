// The process backend: workers are child processes made by node:child_process fork (Node; Deno and Bun too).

import { type ChildProcess, fork } from "node:child_process";
import { availableParallelism } from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { FromWorker, ToWorker } from "../protocol.ts";
import type { Backend, ParentPort, WorkerExit, WorkerHandle } from "./backend.ts";
import { currentRuntime } from "./detect.ts";

const ENTRY = fileURLToPath(new URL("./child_entry.ts", import.meta.url));

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

// Flags of the parent that a worker must not repeat: the test runner's and the inspector's.
function childExecArgv(): string[] {
  return process.execArgv.filter((flag) => !/^--(test|inspect|watch|experimental-test)/.test(flag));
}

/** Creates the backend that forks one child process per worker. */
export function createBackend(): Backend {
  const name = `${currentRuntime()}-process`;
  return {
    name,
    defaultMaxWorkers: availableParallelism(),
    spawn(): WorkerHandle {
      const child = fork(ENTRY, [], {
        stdio: ["inherit", "inherit", "inherit", "ipc"],
        execArgv: childExecArgv(),
        serialization: "json",
      });
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
      const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
      let exitListener: ((exit: WorkerExit) => void) | undefined;
      const finish = (exit: WorkerExit) => {
        if (exited) return;
        exited = true;
        live.delete(child);
        exitListener?.(exit);
      };
      // "close" comes after the IPC channel closed, so every message has been delivered by then.
      child.once("close", (code, signal) => finish({ code, signal, error: failure }));
      child.on("error", (error) => {
        failure = error;
        if (child.pid === undefined) finish({ code: null, signal: null, error });
      });
      return {
        id: child.pid ?? -1,
        send(message: ToWorker) {
          if (exited || !child.connected) return;
          child.send(message, (error) => {
            if (error) failure = error;
          });
        },
        onMessage(listener) {
          child.on("message", (message) => listener(message as FromWorker));
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

/** The child side: the IPC channel to the parent. A child whose parent went away exits. */
export function childPort(): ParentPort {
  process.on("disconnect", () => process.exit(0));
  return {
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
  };
}

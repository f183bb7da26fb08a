// The one narrow interface between the runtime-free core and the code that runs workers on Deno, Bun and Node.

import type { Buffers, FromWorker, ToWorker } from "../protocol.ts";

/**
 * Runs workers for the pool. Each runtime provides one per backend kind (`src/runtime/*.ts`); a test or a custom
 * transport can pass its own as the `backend` option. A transport must deliver each message as the receiver's own
 * copy, as JSON text or structured clone do: the pool rebuilds values inside the messages it receives.
 */
export interface Backend {
  /** Shown in errors: "node-process", "deno-worker", … */
  readonly name: string;
  /** The worker count used when `maxWorkers` is not given (the machine's available parallelism). */
  readonly defaultMaxWorkers: number;
  /**
   * Whether the transport clones messages (structured clone, as `postMessage` does, or V8's serialization, as a
   * child process's `serialization: "advanced"` channel does), so that buffers may travel as themselves: then a
   * message that holds some comes with its {@linkcode Buffers}. Left out, every message is JSON-compatible and
   * binary data travels as base64 text.
   */
  readonly carriesBuffers?: boolean;
  /**
   * With `carriesBuffers`: whether the transport is `postMessage` between threads, which takes a transfer list
   * and shares memory: buffers move without a copy (one marked by `transfer()` is detached on the sending side),
   * and a `SharedArrayBuffer` is shared.
   */
  readonly movesBuffers?: boolean;
  /**
   * Starts a worker running the child side (`serve()` of `worker_main.ts`). Never throws for a worker that
   * fails later: that is reported through `onExit`. The worker must not keep the parent's event loop alive on
   * its own (the pool keeps the loop alive while it has work), and must not outlive the parent.
   */
  spawn(): WorkerHandle;
}

/** One Deno permission for workers: granted (`true`), refused (`false`), granted for a list, or the parent's. */
export type DenoPermissionValue = boolean | "inherit" | readonly string[];

/** Deno permissions for workers, by kind; a kind left out is refused. */
export interface DenoPermissionMap {
  readonly read?: DenoPermissionValue;
  readonly write?: DenoPermissionValue;
  readonly net?: DenoPermissionValue;
  readonly env?: DenoPermissionValue;
  readonly run?: DenoPermissionValue;
  readonly ffi?: DenoPermissionValue;
  readonly sys?: DenoPermissionValue;
  readonly import?: DenoPermissionValue;
}

/** What Deno workers may do: `"inherit"` (the parent's permissions), `"none"`, or a {@linkcode DenoPermissionMap}. */
export type DenoPermissions = "inherit" | "none" | DenoPermissionMap;

/** Settings a backend is created with. */
export interface BackendOptions {
  /** The task module's URL. */
  readonly module: string;
  /** Deno only: the permissions of the workers. Ignored on Node and Bun. */
  readonly denoPermissions: DenoPermissions;
}

/** The parent's view of one worker. */
export interface WorkerHandle {
  /** The pid for a process, a counter for a thread. */
  readonly id: number;
  /**
   * Sends a message; a no-op once the worker has exited. `buffers`, only on a backend that `carriesBuffers`,
   * says whether the message must travel as a value (it holds buffers as themselves) and which buffers to move.
   */
  send(message: ToWorker, buffers?: Buffers): void;
  /**
   * Sets the one listener for the worker's messages: the pool's frames as the worker sent them (the pool checks
   * each one), never what task code posts on the worker's own channel.
   */
  onMessage(listener: (message: unknown) => void): void;
  /** Sets the one listener told, exactly once, that the worker ended, after all its messages were delivered. */
  onExit(listener: (exit: WorkerExit) => void): void;
  /** Kills the worker (force); resolves once it has exited. */
  terminate(): Promise<void>;
}

/** How a worker ended. */
export interface WorkerExit {
  /** The exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal's name, such as "SIGKILL", or `null`. */
  readonly signal: string | null;
  /** An error the worker died of, when the runtime reports one (a thread's uncaught error). */
  readonly error?: unknown;
}

/** The worker's view of its transport to the parent. */
export interface ParentPort {
  /** Whether the transport clones messages, as {@linkcode Backend.carriesBuffers} says of the parent's side. */
  readonly carriesBuffers?: boolean;
  /** Whether it moves buffers, as {@linkcode Backend.movesBuffers} says. */
  readonly movesBuffers?: boolean;
  /** Sends a message to the parent, with the buffers it holds as {@linkcode WorkerHandle.send} takes them. */
  send(message: FromWorker, buffers?: Buffers): void;
  /** Sets the one listener for the parent's messages (the worker checks each one). */
  onMessage(listener: (message: unknown) => void): void;
  /** Ends this worker with `code`, after every message sent so far has been delivered. */
  exit(code: number): void;
}

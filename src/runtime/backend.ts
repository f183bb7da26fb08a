// The one narrow interface between the runtime-free core and the code that runs workers on Deno, Bun and Node.

import type { Buffers } from "../protocol.ts";

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
  /** File system reads (`--allow-read`); a list names the paths. The task module's file is always readable. */
  readonly read?: DenoPermissionValue;
  /** File system writes (`--allow-write`); a list names the paths. */
  readonly write?: DenoPermissionValue;
  /** Network access (`--allow-net`); a list names the hosts (`"example.com"`, `"127.0.0.1:8000"`). */
  readonly net?: DenoPermissionValue;
  /** Environment variables (`--allow-env`); a list names the variables. */
  readonly env?: DenoPermissionValue;
  /** Running subprocesses (`--allow-run`); a list names the programs. */
  readonly run?: DenoPermissionValue;
  /** Loading native libraries (`--allow-ffi`); a list names the library paths. */
  readonly ffi?: DenoPermissionValue;
  /** System information (`--allow-sys`); a list names the APIs (`"hostname"`, `"osRelease"`, …). */
  readonly sys?: DenoPermissionValue;
  /** Importing remote modules (`--allow-import`); a list names the hosts. */
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
  /**
   * Process backend only: environment variables added to each child's (the parent's own, plus these). A child
   * given `PROCPOOL_PORT_MODULE` (a module URL) serves its parent over the port that module opens instead of the
   * IPC channel (see `child_entry.ts`). Ignored by thread backends.
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** The parent's view of one worker. */
export interface WorkerHandle {
  /** The pid for a process, a counter for a thread. */
  readonly id: number;
  /**
   * Sends a message; a no-op once the worker has exited. `buffers`, only on a backend that `carriesBuffers`,
   * says whether the message must travel as a value (it holds buffers as themselves) and which buffers to move.
   *
   * The message is one of the pool's own frames, opaque to a backend: it carries it to the worker's
   * {@linkcode ParentPort.onMessage} as it is (an array of JSON-compatible values, unless `buffers.asValue`
   * says it holds buffers or long strings to clone), and never looks inside. Hence `unknown`: the frame layout
   * is the pool's private protocol, free to change between versions.
   */
  send(message: unknown, buffers?: Buffers): void;
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
  /**
   * Sends a message to the parent, with the buffers it holds as {@linkcode WorkerHandle.send} takes them. The
   * message is one of the pool's own frames, opaque to the transport, as there: it reaches the parent's
   * {@linkcode WorkerHandle.onMessage} listener as it is.
   */
  send(message: unknown, buffers?: Buffers): void;
  /** Sets the one listener for the parent's messages (the worker checks each one). */
  onMessage(listener: (message: unknown) => void): void;
  /** Ends this worker with `code`, after every message sent so far has been delivered. */
  exit(code: number): void;
}

/**
 * A module that a process worker serves its parent through instead of its IPC channel: the child imports it when
 * the environment variable `PROCPOOL_PORT_MODULE` holds its URL (see {@linkcode BackendOptions.env}).
 */
export interface PortModule {
  /**
   * Opens the port, once it can take the parent's first message. `control` is the IPC channel to the process that
   * started the worker: still how the worker exits (`control.exit`), and how it tells that process what it needs
   * to know. Rejects when the port cannot open; the child then exits with code 1.
   */
  openPort(control: ParentPort): Promise<ParentPort>;
}

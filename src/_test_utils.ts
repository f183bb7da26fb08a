// Test helpers: an in-memory backend whose "workers" run serve() in this process, for fast unit tests.

import type { Buffers, FromWorker, ToWorker } from "./protocol.ts";
import type { Backend, BackendOptions, ParentPort, WorkerExit, WorkerHandle } from "./runtime/backend.ts";
import { serve } from "./worker_main.ts";

/** A worker of {@linkcode memoryBackend}, with what a test needs to look at or do to it. */
export interface MemoryWorker extends WorkerHandle {
  /** Every message the parent sent it. */
  readonly received: ToWorker[];
  /** Whether it has exited. */
  readonly exited: boolean;
  /** Ends it as a crash would, with this exit. */
  crash(exit: WorkerExit): void;
}

/** An in-memory {@linkcode Backend} and the workers it started. */
export interface MemoryBackend extends Backend {
  readonly workers: MemoryWorker[];
}

/**
 * A backend whose workers run `serve()` in this process. Messages travel through JSON (as on the fork
 * transport) on a later macrotask, so that ordering and batching resemble a real transport; with `transport`
 * "clone" through structuredClone, declaring `carriesBuffers`, and with "move" also moving buffers
 * (`movesBuffers`), as a custom backend over a MessagePort would.
 */
export function memoryBackend(
  options: Partial<BackendOptions> & {
    maxWorkers?: number;
    maxMessageLength?: number;
    transport?: "json" | "clone" | "move";
  } = {},
): MemoryBackend {
  const transport = options.transport ?? "json";
  // A transport's size limit, as JSON.stringify's string length is one: a longer message throws, and nothing is sent.
  const copy = <T>(message: T, buffers?: Buffers): T => {
    if (transport !== "json") {
      return structuredClone(message, { transfer: transport === "move" ? buffers?.moved ?? [] : [] });
    }
    const text = JSON.stringify(message);
    if (options.maxMessageLength !== undefined && text.length > options.maxMessageLength) {
      throw new RangeError(`message of ${text.length} characters is too long`);
    }
    return JSON.parse(text) as T;
  };
  const workers: MemoryWorker[] = [];
  let nextId = 1;
  return {
    name: "memory",
    defaultMaxWorkers: options.maxWorkers ?? 2,
    carriesBuffers: transport !== "json",
    movesBuffers: transport === "move",
    workers,
    spawn(): WorkerHandle {
      let toParent: ((message: FromWorker) => void) | undefined;
      let toChild: ((message: ToWorker) => void) | undefined;
      let exitListener: ((exit: WorkerExit) => void) | undefined;
      let exited = false;
      const received: ToWorker[] = [];
      const end = (exit: WorkerExit) => {
        if (exited) return;
        exited = true;
        setTimeout(() => exitListener?.(exit), 0);
      };
      const port: ParentPort = {
        carriesBuffers: transport !== "json",
        movesBuffers: transport === "move",
        // Typed as the frames this side sends: WorkerHandle and ParentPort take any frame, as opaque.
        send(message: FromWorker, buffers?: Buffers) {
          const copied = copy(message, buffers);
          setTimeout(() => {
            if (!exited) toParent?.(copied);
          }, 0);
        },
        onMessage(listener) {
          toChild = listener;
        },
        exit(code) {
          // Messages already sent are delivered first: they were queued before this timer.
          setTimeout(() => end({ code, signal: null }), 0);
        },
      };
      serve(port);
      const worker: MemoryWorker = {
        id: nextId++,
        received,
        get exited() {
          return exited;
        },
        send(message: ToWorker, buffers?: Buffers) {
          if (exited) return;
          const copied = copy(message, buffers);
          received.push(message);
          setTimeout(() => {
            if (!exited) toChild?.(copied);
          }, 0);
        },
        onMessage(listener) {
          toParent = listener;
        },
        onExit(listener) {
          exitListener = listener;
        },
        terminate() {
          end({ code: null, signal: "SIGKILL" });
          return new Promise((resolve) => setTimeout(resolve, 1));
        },
        crash(exit) {
          end(exit);
        },
      };
      workers.push(worker);
      return worker;
    },
  };
}

/** Resolves with `promise`'s value, or rejects when it has not settled within `ms` (a hang becomes a failure). */
export async function within<T>(promise: Promise<T>, ms = 2000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The kinds of typed array this runtime has, with their constructors (Float16Array: Deno and Bun, not Node 20). */
export function typedArrayKinds(): [
  string,
  new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView,
][] {
  const names = [
    "Int8Array",
    "Uint8Array",
    "Uint8ClampedArray",
    "Int16Array",
    "Uint16Array",
    "Int32Array",
    "Uint32Array",
    "Float16Array",
    "Float32Array",
    "Float64Array",
    "BigInt64Array",
    "BigUint64Array",
  ];
  const g = globalThis as unknown as Record<string, unknown>;
  return names.filter((n) => typeof g[n] === "function").map((n) => [n, g[n] as never]);
}

/** An AbortController whose signal counts the "abort" listeners it holds. */
export interface CountedAbort {
  readonly controller: AbortController;
  readonly signal: AbortSignal;
  /** How many "abort" listeners the signal holds now (a `{ once: true }` one is gone once it has run). */
  listeners(): number;
}

/**
 * An AbortController whose signal counts its "abort" listeners, so that a test can show that a call that has
 * settled leaves none behind on a long-lived signal.
 */
export function countedAbort(): CountedAbort {
  const controller = new AbortController();
  const signal = controller.signal;
  const live = new Set<unknown>();
  const once = new Set<unknown>();
  const add = signal.addEventListener.bind(signal) as (type: string, listener: unknown, options?: unknown) => void;
  const remove = signal.removeEventListener.bind(signal) as (type: string, listener: unknown) => void;
  // Added first, so it runs first when the signal aborts: the once-listeners are gone from then on.
  add("abort", () => {
    for (const listener of once) live.delete(listener);
    once.clear();
  });
  Object.assign(signal, {
    addEventListener(type: string, listener: unknown, options?: unknown) {
      if (type === "abort" && listener !== null && !live.has(listener)) {
        live.add(listener);
        if (typeof options === "object" && options !== null && (options as { once?: boolean }).once === true) {
          once.add(listener);
        }
      }
      add(type, listener, options);
    },
    removeEventListener(type: string, listener: unknown) {
      if (type === "abort") {
        live.delete(listener);
        once.delete(listener);
      }
      remove(type, listener);
    },
  });
  return { controller, signal, listeners: () => live.size };
}

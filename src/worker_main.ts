// The child side of every backend: load the task module, run the initializer, run tasks in order, report.

import { now } from "./_clock.ts";
import {
  CHUNK,
  decode,
  type Encoded,
  encode,
  type Hello,
  type ItemOutcome,
  RAISED,
  RETURNED,
  type Task,
  type TaskResult,
  type ToWorker,
} from "./protocol.ts";
import type { ParentPort } from "./runtime/backend.ts";

type Exports = Record<string, unknown>;
type State = "waiting-for-hello" | "starting" | "ready" | "stopping" | "exited";

// Results of quick tasks are sent together; a task that has been running this long gets its own message.
const FLUSH_AFTER_MS = 2;

/**
 * Serves one worker: waits for the parent's `hello`, imports the task module, runs the initializer, then runs
 * the tasks it is sent, one at a time in arrival order, and sends their outcomes back in batches. A failing
 * import or initializer is printed ("Exception in initializer:" and the stack), reported, and ends the worker.
 */
export function serve(port: ParentPort): void {
  let state: State = "waiting-for-hello";
  let hello: Hello;
  let exports: Exports;
  const queue: Task[] = [];
  let head = 0;
  let pumping = false;
  let completed = 0;

  const exit = (code: number) => {
    state = "exited";
    port.exit(code);
  };

  const start = async () => {
    try {
      exports = await import(hello.module) as Exports;
    } catch (error) {
      console.error(`Exception in worker while importing ${hello.module}:\n${describe(error)}`);
      port.send({ kind: "fatal", phase: "import", error: encodeSafely(error) });
      return exit(1);
    }
    if (hello.initializer !== undefined) {
      try {
        const initializer = lookup(exports, hello.initializer, hello.module);
        const args = decode(hello.initArgs) as unknown[];
        await initializer(...args);
      } catch (error) {
        console.error(`Exception in initializer:\n${describe(error)}`);
        port.send({ kind: "fatal", phase: "initializer", error: encodeSafely(error) });
        return exit(1);
      }
    }
    if (state === "starting") state = "ready";
    port.send({ kind: "ready" });
    void pump();
  };

  const pump = async () => {
    if (pumping || state === "waiting-for-hello" || state === "starting" || state === "exited") return;
    pumping = true;
    let results: TaskResult[] = [];
    let started = now();
    let batchStart = started;
    const flush = () => {
      if (results.length === 0) return;
      const t = now();
      port.send({ kind: "results", results, busyMs: t - batchStart });
      results = [];
      batchStart = t;
    };
    while (head < queue.length) {
      const task = queue[head];
      queue[head++] = undefined as unknown as Task;
      let outcome = run(exports, hello.module, task);
      if (outcome instanceof Promise) {
        flush();
        outcome = await outcome;
      }
      results.push(outcome);
      completed++;
      if (hello.maxTasks !== undefined && completed >= hello.maxTasks) {
        flush();
        return exit(0);
      }
      const t = now();
      if (t - started > FLUSH_AFTER_MS) {
        flush();
        started = t;
      }
    }
    queue.length = 0;
    head = 0;
    flush();
    pumping = false;
    if (state === "stopping") exit(0);
  };

  port.onMessage((message: ToWorker) => {
    switch (message.kind) {
      case "hello":
        if (state !== "waiting-for-hello") return;
        hello = message.hello;
        state = "starting";
        void start();
        return;
      case "run":
        for (const task of message.tasks) queue.push(task);
        void pump();
        return;
      case "stop":
        if (state === "exited") return;
        if (state === "ready" && !pumping && head >= queue.length) return exit(0);
        state = "stopping";
        if (!pumping) void pump();
        return;
    }
  });
}

// Runs one task; returns its result synchronously when the function did not return a promise.
function run(exports: Exports, module: string, task: Task): TaskResult | Promise<TaskResult> {
  const [id, name, args, chunk] = task;
  let fn: (...args: unknown[]) => unknown;
  let decoded: unknown[];
  try {
    fn = lookup(exports, name, module);
    decoded = decode(args) as unknown[];
  } catch (error) {
    return chunk ? [id, CHUNK, [[RAISED, encodeSafely(error)]]] : [id, RAISED, encodeSafely(error)];
  }
  if (chunk) return runChunk(id, fn, decoded as unknown[][]);
  let value: unknown;
  try {
    value = fn(...decoded);
  } catch (error) {
    return [id, RAISED, encodeSafely(error)];
  }
  if (!isThenable(value)) return [id, ...encodeOutcome(RETURNED, value)];
  return Promise.resolve(value).then(
    (v) => [id, ...encodeOutcome(RETURNED, v)],
    (error) => [id, RAISED, encodeSafely(error)],
  );
}

// Runs a chunk's items in order and stops at the first that raises, as CPython's _process_chunk does.
async function runChunk(id: number, fn: (...args: unknown[]) => unknown, items: unknown[][]): Promise<TaskResult> {
  const outcomes: ItemOutcome[] = [];
  for (const args of items) {
    let outcome: ItemOutcome;
    try {
      let value = fn(...args);
      if (isThenable(value)) value = await value;
      outcome = encodeOutcome(RETURNED, value);
    } catch (error) {
      outcome = [RAISED, encodeSafely(error)];
    }
    outcomes.push(outcome);
    if (outcome[0] === RAISED) break;
  }
  return [id, CHUNK, outcomes];
}

// A result that cannot be sent fails its task with the TypeError that says why (CPython: "cannot pickle …").
function encodeOutcome(status: typeof RETURNED, value: unknown): ItemOutcome {
  try {
    return [status, encode(value)];
  } catch (error) {
    return [RAISED, encodeSafely(new TypeError(`Cannot send the task's result back: ${messageOf(error)}`))];
  }
}

// An error that cannot be sent is replaced by a TypeError that names it and keeps its stack as text.
function encodeSafely(error: unknown): Encoded {
  try {
    return encode(error);
  } catch (reason) {
    const replacement = new TypeError(`Cannot send the task's error back: ${messageOf(reason)}`);
    replacement.stack = `${replacement.stack}\nThe error that could not be sent:\n${describe(error)}`;
    return encode(replacement);
  }
}

/** Finds an own exported function by name; inherited names such as `constructor` are never exports. */
export function lookup(exports: Exports, name: string, module: string): (...args: unknown[]) => unknown {
  const fn = Object.hasOwn(exports, name) ? exports[name] : undefined;
  if (typeof fn !== "function") {
    throw new TypeError(`${JSON.stringify(name)} is not a function exported by ${module}`);
  }
  return fn as (...args: unknown[]) => unknown;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}

// The child side of every backend: load the task module, run the initializer, run tasks in order, report.

import { now } from "./_clock.ts";
import {
  Buffers,
  CALL,
  decode,
  encode,
  type Encoded,
  encodeOwned,
  FATAL,
  type FromWorker,
  HELLO,
  type Hello,
  joinBuffers,
  MAP_CHUNK,
  type Mode,
  type OneTask,
  RAISED,
  READY,
  RESULT_ONE,
  RESULTS,
  RETURNED,
  RUN,
  RUN_ONE,
  type Status,
  STOP,
  type TaskBatch,
} from "./protocol.ts";
import { checkToWorker } from "./framing.ts";
import type { ParentPort } from "./runtime/backend.ts";

type Exports = Record<string, unknown>;
type TaskFn = (...args: unknown[]) => unknown;
type State = "waiting-for-hello" | "starting" | "ready" | "stopping" | "exited";
// A task's outcome, and the buffers its value holds as themselves (only on a transport that carries them).
type Outcome = [Status, Encoded, Buffers?];

// Results of quick tasks are sent together; once a batch has run this long, what is done so far is sent.
const FLUSH_AFTER_MS = 2;
// A function whose last call on a worker took less than this is quick: outcomes may wait for it, in a batch.
const QUICK_MS = 1;

/**
 * Serves one worker: waits for the parent's `hello`, imports the task module, runs the initializer, then runs
 * the tasks it is sent, one at a time in arrival order, and sends their outcomes back in batches. A failing
 * import or initializer is printed ("Exception in initializer:" and the stack), reported, and ends the worker.
 * Returns a function that sends the outcomes of finished tasks at once, for the entry's exit hooks: a task that
 * exits its worker must not take the outcomes of the tasks before it along.
 */
export function serve(port: ParentPort): () => void {
  let state: State = "waiting-for-hello";
  let hello: Hello;
  let exports: Exports;
  const functions: TaskFn[] = [];
  const batches: (TaskBatch | OneTask)[] = [];
  let position = 0; // the next task of batches[0]
  let pumping = false;
  let completed = 0;
  // The port takes any frame (a transport never looks inside); this side sends only the worker's own.
  const send = (message: FromWorker, buffers?: Buffers): void => port.send(message, buffers);
  // How outcomes carry big data: as base64 text, or as themselves (see Buffers).
  const newBuffers = port.carriesBuffers === true ? () => new Buffers(port.movesBuffers === true) : () => undefined;

  const exit = (code: number) => {
    state = "exited";
    port.exit(code);
  };

  const start = async () => {
    try {
      exports = await import(hello.module) as Exports;
    } catch (error) {
      console.error(`Exception in worker while importing ${hello.module}:\n${describe(error)}`);
      send([FATAL, "import", encodeSafely(error)]);
      return exit(1);
    }
    if (hello.initializer !== undefined) {
      try {
        const initializer = lookup(exports, hello.initializer, hello.module);
        const args = decode(hello.initArgs) as unknown[];
        await initializer(...args);
      } catch (error) {
        console.error(`Exception in initializer:\n${describe(error)}`);
        send([FATAL, "initializer", encodeSafely(error)]);
        return exit(1);
      }
    }
    if (state === "starting") state = "ready";
    send([READY]);
    pump();
  };

  // The function at `index` in the hello's table of exports, looked up once.
  const find = (index: number): TaskFn => {
    let fn = functions[index];
    if (fn === undefined) {
      fn = functions[index] = lookup(exports, hello.functions[index] ?? String(index), hello.module);
    }
    return fn;
  };

  // Outcomes not sent yet, column by column, and when the worker started on them.
  let ids: number[] = [];
  let statuses: Status[] = [];
  let values: Encoded[] = [];
  let chunked: boolean[] = [];
  let carried: (Buffers | undefined)[] = [];
  let batchStart = 0;
  // How long each function's last call took on this worker, by its index: outcomes wait for the next task only
  // when its function was quick last time, so that no result waits behind a task that may run long. (The last
  // call, not the longest: one call stalled by a GC pause or a busy machine must not end batching for good.)
  const lastMs: number[] = [];
  const flush = () => {
    const n = ids.length;
    if (n === 0) return;
    const t = now();
    const busyMs = t - batchStart;
    if (n === 1) {
      sendOne(ids[0], statuses[0], values[0], chunked[0], carried[0], busyMs);
      // The columns were not sent: empty them for the next outcomes.
      ids.length = 0;
      statuses.length = 0;
      values.length = 0;
      chunked.length = 0;
      carried.length = 0;
    } else {
      try {
        send([RESULTS, ids, statuses, values, busyMs], joinBuffers(carried));
      } catch {
        // Too big to send together: one by one, so that only the outcome that cannot be sent fails.
        for (let i = 0; i < n; i++) sendOne(ids[i], statuses[i], values[i], chunked[i], carried[i], busyMs / n);
      }
      ids = [];
      statuses = [];
      values = [];
      chunked = [];
      carried = [];
    }
    batchStart = t;
  };
  // Sends one outcome; one that cannot be sent (too large for the transport) fails its task instead (R2.6).
  const sendOne = (
    id: number,
    status: Status,
    value: Encoded,
    isChunk: boolean,
    buffers: Buffers | undefined,
    busyMs: number,
  ) => {
    try {
      send([RESULT_ONE, id, status, value, busyMs], buffers);
    } catch (reason) {
      const error = encodeSafely(new TypeError(`Cannot send the task's result back: ${messageOf(reason)}`));
      send([RESULT_ONE, id, RAISED, isChunk ? [[], error] : error, busyMs]);
    }
  };
  // Records a task's outcome; returns false when the worker has used up its task budget and exited.
  // `t` is now(), which the caller has just read.
  const record = (id: number, outcome: Outcome, isChunk: boolean, t: number): boolean => {
    ids.push(id);
    statuses.push(outcome[0]);
    values.push(outcome[1]);
    chunked.push(isChunk);
    carried.push(outcome[2]);
    completed++;
    if (hello.maxTasks !== undefined && completed >= hello.maxTasks) {
      flush();
      exit(0);
      return false;
    }
    if (t - batchStart > FLUSH_AFTER_MS) flush();
    return true;
  };

  const pump = () => {
    if (pumping || state === "waiting-for-hello" || state === "starting" || state === "exited") return;
    pumping = true;
    batchStart = now();
    drain();
  };
  // Runs queued tasks in order, synchronously while they return plain values; a task that returns a promise
  // sends what is done so far, and the queue carries on once it settles.
  const drain = (): void => {
    // One clock reading per task: a task's end is the next one's start.
    let t = now();
    while (batches.length > 0) {
      const batch = batches[0];
      let id: number, fn: number, args: Encoded, mode: Mode;
      if (batch[0] === RUN_ONE) {
        batches.shift();
        id = batch[1];
        fn = batch[2];
        mode = batch[3];
        args = batch.slice(4);
      } else {
        const [, batchIds, fns, argLists, modes] = batch;
        const i = position++;
        if (position >= batchIds.length) {
          batches.shift();
          position = 0;
        }
        id = batchIds[i];
        fn = typeof fns === "number" ? fns : fns[i];
        args = argLists[i];
        mode = typeof modes === "number" ? modes : modes[i];
      }
      if (ids.length > 0 && !(lastMs[fn] < QUICK_MS)) {
        flush();
        t = now();
      }
      const started = t;
      const outcome = run(find, fn, args, mode, newBuffers);
      const isChunk = mode !== CALL;
      if (outcome instanceof Promise) {
        flush();
        void outcome.then((settled) => {
          const end = now();
          lastMs[fn] = end - started;
          if (record(id, settled, isChunk, end)) drain();
        });
        return;
      }
      t = now();
      lastMs[fn] = t - started;
      if (!record(id, outcome, isChunk, t)) return;
    }
    flush();
    pumping = false;
    if (state === "stopping") exit(0);
  };

  port.onMessage((data) => {
    let message;
    try {
      message = checkToWorker(data);
    } catch (error) {
      // Only the pool writes to this channel: a frame it cannot read is a bug, and this worker cannot go on.
      console.error(`procpool worker: ${describe(error)}`);
      return exit(1);
    }
    switch (message[0]) {
      case HELLO:
        if (state !== "waiting-for-hello") return;
        hello = message[1];
        state = "starting";
        void start();
        return;
      case RUN:
      case RUN_ONE:
        batches.push(message);
        pump();
        return;
      case STOP:
        if (state === "exited") return;
        if (state === "ready" && !pumping && batches.length === 0) return exit(0);
        state = "stopping";
        if (!pumping) pump();
        return;
    }
  });
  return flush;
}

// Runs one task; returns its outcome synchronously when the function did not return a promise.
function run(
  find: (index: number) => TaskFn,
  index: number,
  args: Encoded,
  mode: Mode,
  newBuffers: () => Buffers | undefined,
): Outcome | Promise<Outcome> {
  let fn: TaskFn;
  let decoded: unknown[];
  try {
    fn = find(index);
    decoded = decode(args) as unknown[];
  } catch (error) {
    return mode === CALL ? [RAISED, encodeSafely(error)] : [RAISED, [[], encodeSafely(error)]];
  }
  if (mode !== CALL) return runChunk(fn, decoded, mode === MAP_CHUNK, newBuffers);
  let value: unknown;
  try {
    value = fn(...decoded);
  } catch (error) {
    return [RAISED, encodeSafely(error)];
  }
  if (!isThenable(value)) return encodeResult(value, newBuffers);
  return Promise.resolve(value).then((v) => encodeResult(v, newBuffers), (error) => [RAISED, encodeSafely(error)]);
}

// Runs a chunk's items in order and stops at the first that raises, as CPython's _process_chunk does.
async function runChunk(
  fn: TaskFn,
  items: unknown[],
  single: boolean,
  newBuffers: () => Buffers | undefined,
): Promise<Outcome> {
  const results: unknown[] = [];
  let failure: { error: unknown } | undefined;
  for (const item of items) {
    try {
      let value = single ? fn(item) : fn(...item as unknown[]);
      if (isThenable(value)) value = await value;
      results.push(value);
    } catch (error) {
      failure = { error };
      break;
    }
  }
  let encoded: Encoded;
  let buffers = newBuffers();
  try {
    encoded = encodeOwned(results, buffers);
  } catch {
    // Keep the results before the first that cannot be sent; that one fails, as if it had thrown.
    let sendable = 0;
    for (; sendable < results.length; sendable++) {
      try {
        encode(results[sendable]);
      } catch (reason) {
        failure = { error: new TypeError(`Cannot send the task's result back: ${messageOf(reason)}`) };
        break;
      }
    }
    buffers = newBuffers();
    encoded = encodeOwned(results.slice(0, sendable), buffers);
  }
  if (!buffers?.asValue) buffers = undefined;
  return failure === undefined
    ? [RETURNED, encoded, buffers]
    : [RAISED, [encoded, encodeSafely(failure.error)], buffers];
}

// A result that cannot be sent fails its task with the TypeError that says why (CPython: "cannot pickle …").
function encodeResult(value: unknown, newBuffers: () => Buffers | undefined): Outcome {
  try {
    const buffers = newBuffers();
    const encoded = encode(value, buffers);
    return buffers?.asValue ? [RETURNED, encoded, buffers] : [RETURNED, encoded];
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
export function lookup(exports: Exports, name: string, module: string): TaskFn {
  const fn = Object.hasOwn(exports, name) ? exports[name] : undefined;
  if (typeof fn !== "function") {
    throw new TypeError(`${JSON.stringify(name)} is not a function exported by ${module}`);
  }
  return fn as TaskFn;
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

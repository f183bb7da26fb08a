// ProcessPoolExecutor: the pending queue, dispatch to workers, and the open / shutting-down / broken states.

import { cancelOnAbort } from "./_abort.ts";
import {
  checkIterable,
  checkMapOptions,
  checkModule,
  checkPositiveInteger,
  checkSignal,
  checkTaskFunction,
  describeValue,
} from "./_checks.ts";
import { now } from "./_clock.ts";
import { deferred } from "./_deferred.ts";
import { KeepAlive } from "./_keep_alive.ts";
import { Queue } from "./_queue.ts";
import {
  BROKEN_FUTURE_MESSAGE,
  BROKEN_SUBMIT_MESSAGE,
  BrokenProcessPool,
  RuntimeError,
  SHUTDOWN_SUBMIT_MESSAGE,
  WorkerExitError,
  WorkerProtocolError,
} from "./errors.ts";
import { Future } from "./future.ts";
import { TaskModule } from "./task_module.ts";
import { PoolWorker, type WorkItem } from "./pool_worker.ts";
import { type MapIterator, type MapOptions, ResultIterator } from "./map.ts";
import {
  Buffers,
  CALL,
  type ChunkOutcome,
  encode,
  type Encoded,
  encodeOwned,
  EXITING,
  FATAL,
  type FromWorker,
  HELLO,
  type Hello,
  MAP_CHUNK,
  type Mode,
  READY,
  RESULT_ONE,
  RESULTS,
  RETURNED,
  STAR_CHUNK,
  type Status,
  type ToWorker,
} from "./protocol.ts";
import { checkFromWorker, type FrameError } from "./framing.ts";
import type { Backend, DenoPermissions, WorkerExit, WorkerHandle } from "./runtime/backend.ts";
import { checkDenoPermissions } from "./runtime/deno_permissions.ts";
import { type BackendKind, checkBackendKind, importError, loadBackend, movesBuffers } from "./runtime/detect.ts";

/** Any function a task module exports. */
// deno-lint-ignore no-explicit-any
export type TaskFunction = (...args: any[]) => unknown;

/** Options of {@linkcode ProcessPoolExecutor}. */
export interface ProcessPoolExecutorOptions {
  /**
   * The task module: an absolute URL (or URL string) of the module whose exports the workers run, usually
   * `new URL("./tasks.ts", import.meta.url)`. The parent imports it too, at exactly this URL.
   */
  readonly module: URL | string;
  /** How many workers to run at most. @default {the machine's available parallelism} */
  readonly maxWorkers?: number;
  /** Called in each worker before its first task: an export of `module`, or its name. @default {undefined} */
  readonly initializer?: TaskFunction | string;
  /** The initializer's arguments. @default {[]} */
  readonly initArgs?: readonly unknown[];
  /** A worker exits after this many tasks and a fresh one replaces it. @default {undefined} (no limit) */
  readonly maxTasksPerChild?: number;
  /**
   * What runs the workers: `"process"` (a child process), `"worker"` (a thread), `"auto"` (the runtime's
   * default: a child process on Node, a worker on Deno and Bun), or a {@linkcode Backend} object.
   * @default {"auto"}
   */
  readonly backend?: BackendKind | Backend;
  /**
   * Deno only: what the workers may do. `"inherit"` gives each worker the permissions the parent holds in full
   * (a permission the parent holds only for some paths or hosts must be listed); `"none"` or a map such as
   * `{ read: true, net: ["example.com"] }` restricts them. A process worker gets them as `deno run` flags; a
   * thread worker with anything but `"inherit"` is a Deno Web Worker, which needs `--unstable-worker-options`.
   * The task module's file is always readable. Ignored on Node and Bun.
   * @default {"inherit"}
   */
  readonly denoPermissions?: DenoPermissions;
}

/** Options of {@linkcode ProcessPoolExecutor.shutdown}. */
export interface ShutdownOptions {
  /** Resolve only once all work is done and every worker has exited. @default {true} */
  readonly wait?: boolean;
  /** Cancel every future that has not started yet. @default {false} */
  readonly cancelFutures?: boolean;
}

/**
 * Options of {@linkcode ProcessPoolExecutor.submitWith}: what `submit(fn, ...args)` cannot take, since every
 * argument after `fn` is the task's.
 *
 * @example Cancelling queued tasks with an AbortSignal
 * ```ts
 * import { ProcessPoolExecutor, type SubmitOptions } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * const module = new URL("../conformance/tasks/basic.ts", import.meta.url);
 * await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1 });
 * const controller = new AbortController();
 * const options: SubmitOptions = { signal: controller.signal };
 * const futures = [1, 2, 3].map((x) => pool.submitWith(options, "double", x));
 * controller.abort(); // before the pool handed any of them to a worker (it does so once this code awaits)
 * assert.ok(futures.every((f) => f.cancelled()));
 * ```
 */
export interface SubmitOptions {
  /**
   * Cancels the task if it is still pending when the signal aborts (as `future.cancel()` does); once the task is
   * running or done, an abort changes nothing. A signal aborted already makes `submitWith` throw `signal.reason`
   * and submit nothing.
   * `null` means no signal, as `undefined` does (as in `fetch`'s `RequestInit`).
   * @default {undefined}
   */
  readonly signal?: AbortSignal | null;
}

type PoolState = "open" | "shutting-down" | "closed" | "broken";

// How many cancelled tasks #startWorkersFor looks past for tasks still waiting.
const LOOK_PAST = 64;

let nextTaskId = 1;

/**
 * A pool of worker processes (or threads) running the exports of one task module: Python's
 * `concurrent.futures.ProcessPoolExecutor`, with its exception semantics.
 *
 * - A task that throws fails only its own future; `result()` rethrows the error, rebuilt with its class, name,
 *   message, properties, `cause` and the worker's stack.
 * - An initializer that throws, a task-module import that fails, or a worker that dies breaks the pool: every
 *   unfinished future fails with {@linkcode BrokenProcessPool}, and `submit` throws it from then on.
 * - Done-callbacks that throw are logged (see `setLogger`) and change nothing else.
 *
 * Like Python's `ProcessPoolExecutor`; differences: functions are exports of `module` (given as the function
 * the caller imported, or its name), timeouts are milliseconds, and waiting calls return promises.
 * The rules it keeps, R1–R10, are stated in the package's rule book, `docs/rules.md`.
 *
 * @example Running tasks and handling their errors
 * ```ts
 * import { ProcessPoolExecutor } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * const module = new URL("../conformance/tasks/basic.ts", import.meta.url);
 * await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2 });
 * assert.equal(await pool.submit("double", 21), 42);
 * await assert.rejects(pool.submit("fail", "bad").result(), { name: "ValueError", message: "bad" });
 * const doubled: number[] = [];
 * for await (const x of pool.map("double", [1, 2, 3])) doubled.push(x as number);
 * assert.deepEqual(doubled, [2, 4, 6]);
 * ```
 */
export class ProcessPoolExecutor implements AsyncDisposable {
  readonly #module: string;
  readonly #maxWorkersOption: number | undefined;
  readonly #initializer: TaskFunction | string | undefined;
  readonly #initArgs: Encoded;
  // What the hello holds as buffers (copied to every worker, never moved).
  readonly #initBuffers: Buffers | undefined;
  // Whether messages may hold buffers as themselves (every built-in backend), and whether they move them.
  readonly #carriesBuffers: boolean;
  readonly #movesBuffers: boolean;
  readonly #maxTasks: number | undefined;
  readonly #backendOption: BackendKind | Backend;
  readonly #denoPermissions: DenoPermissions;

  #state: PoolState = "open";
  #backend: Backend | undefined;
  #maxWorkers = 1;
  // The task module, once imported.
  #taskModule: TaskModule | undefined;
  #loadError: { error: unknown } | undefined;
  #hello: Hello | undefined;
  readonly #pending = new Queue<WorkItem>();
  readonly #workers = new Set<PoolWorker>();
  #brokenCause: unknown;
  readonly #closed = deferred<void>();
  #dispatchQueued = false;
  readonly #shares = new Map<PoolWorker, WorkItem[]>(); // #dispatch's work: each worker's share, then sent
  readonly #dispatchSoon = () => this.#dispatch();
  readonly #keepAlive = new KeepAlive();

  /**
   * Creates the pool. Workers start lazily, on demand, up to `maxWorkers`; the parent starts importing the task
   * module at once (its top level runs in the parent too).
   *
   * @throws {TypeError} `module` missing or not an absolute URL; `initializer` neither a function nor a string;
   *   `initArgs` not an array or not sendable; an unknown `backend`.
   * @throws {RangeError} `maxWorkers` or `maxTasksPerChild` not a positive integer.
   */
  constructor(options: ProcessPoolExecutorOptions) {
    if (options === null || typeof options !== "object") {
      throw new TypeError("Cannot create the pool: expected an options object with a `module` URL");
    }
    this.#module = checkModule(options.module);
    this.#maxWorkersOption = checkPositiveInteger(
      options.maxWorkers,
      "maxWorkers",
      "maxWorkers must be greater than 0",
    );
    this.#maxTasks = checkPositiveInteger(
      options.maxTasksPerChild,
      "maxTasksPerChild",
      "maxTasksPerChild must be >= 1",
    );
    const initializer = options.initializer;
    if (initializer !== undefined && typeof initializer !== "function" && typeof initializer !== "string") {
      throw new TypeError("initializer must be a callable: an exported function or its name");
    }
    this.#initializer = initializer;
    const initArgs = options.initArgs ?? [];
    if (!Array.isArray(initArgs)) throw new TypeError("Cannot create the pool: initArgs must be an array");
    const backend = options.backend ?? "auto";
    if (typeof backend !== "object" || backend === null) checkBackendKind(backend);
    else if (typeof backend.spawn !== "function") throw new TypeError("Cannot create the pool: backend has no spawn()");
    else if (options.maxWorkers === undefined) {
      // Without maxWorkers the pool runs as many workers as a custom backend says: check that here, not at first use.
      const count = backend.defaultMaxWorkers as unknown;
      if (typeof count !== "number") {
        throw new TypeError(
          `Cannot create the pool: backend.defaultMaxWorkers must be a positive integer when maxWorkers is not given, got ${
            describeValue(count)
          }`,
        );
      }
      if (!Number.isSafeInteger(count) || count < 1) {
        throw new RangeError(
          `Cannot create the pool: backend.defaultMaxWorkers must be a positive integer, got ${count}`,
        );
      }
    }
    this.#backendOption = backend;
    // Binary data travels as itself, and moves where workers are threads; through a custom backend that does
    // not say it clones messages, as base64 text.
    const custom = typeof backend === "object";
    this.#carriesBuffers = custom ? backend.carriesBuffers === true : true;
    this.#movesBuffers = this.#carriesBuffers && (custom ? backend.movesBuffers === true : movesBuffers(backend));
    this.#initBuffers = this.#carriesBuffers ? new Buffers(this.#movesBuffers, false) : undefined;
    try {
      this.#initArgs = encode(initArgs, this.#initBuffers);
    } catch (error) {
      throw new TypeError(`Cannot create the pool: initArgs cannot be sent to workers: ${messageOf(error)}`);
    }
    checkDenoPermissions(options.denoPermissions);
    this.#denoPermissions = options.denoPermissions ?? "inherit";
    void this.#load();
  }

  /**
   * Schedules `fn(...args)` on a worker and returns its future. Never blocks and never runs user code.
   *
   * @typeParam F The task function's type, for the argument and result types.
   * @param fn An export of the task module: the function itself or its export name.
   * @param args The arguments; they are copied (structured-clone rules) when `submit` is called.
   * @returns The task's future. A name that is not an exported function, or arguments that cannot be sent, fail
   *   this future with a `TypeError`; the pool stays usable.
   * @throws {BrokenProcessPool} when the pool is broken.
   * @throws {RuntimeError} after `shutdown()`: "cannot schedule new futures after shutdown".
   * @throws {TypeError} when `fn` is neither a function nor a string.
   */
  submit<F extends TaskFunction>(fn: F, ...args: Parameters<F>): Future<Awaited<ReturnType<F>>>;
  /**
   * Schedules the export named `fn`, as above; the result type `R` is the caller's to state (`unknown` unless
   * given), since a name carries no type.
   *
   * @typeParam R The task's result type.
   */
  submit<R = unknown>(fn: string, ...args: unknown[]): Future<R>;
  submit(fn: TaskFunction | string, ...args: unknown[]): Future<unknown> {
    this.#checkOpen();
    checkTaskFunction(fn);
    return this.#submitTask(fn, args, CALL);
  }

  /**
   * {@linkcode ProcessPoolExecutor.submit} with options first: `signal` ties the task to an `AbortSignal`. An
   * abort while the task is still PENDING cancels its future, exactly as `future.cancel()` does (it becomes
   * cancelled, its done-callbacks run, `result()` rejects with {@linkcode CancelledError}); once the task is
   * RUNNING or done, an abort changes nothing, as `cancel()` does not (Python cannot stop a running call either).
   * RUNNING includes a task that has not started yet but is held in the pool's call queue (up to
   * `maxWorkers + 1` tasks, as in CPython): it still runs after an abort. A signal aborted already throws
   * `signal.reason` from this call, and nothing is submitted; the arguments and the pool's state are checked
   * first, so an aborted signal never hides a wrong `fn` or a closed pool.
   *
   * A method of its own because `submit(fn, ...args)` mirrors Python's `*args`: an options object at the end would
   * be one more argument for the task. (`submit(…)` followed by a `future.cancelOn(signal)` could not keep an
   * aborted signal from submitting the task.) Any number of tasks may share one signal: the pool listens to it
   * once, and stops listening when its last task is done.
   *
   * @typeParam F The task function's type, for the argument and result types.
   * @param options `signal`: aborting it cancels the task while it is still PENDING.
   * @param fn An export of the task module: the function itself or its export name.
   * @param args The arguments; they are copied (structured-clone rules) when `submitWith` is called.
   * @returns The task's future, as `submit` returns it.
   * @throws {TypeError} `options` not an object, `signal` neither an AbortSignal nor `undefined`/`null`, or `fn`
   *   neither a function nor a string.
   * @throws {BrokenProcessPool} / {RuntimeError} as `submit`.
   * @throws {unknown} `signal.reason`, when the signal is aborted already (and nothing above applies).
   *
   * @example Cancelling a task that is still queued
   * ```ts
   * import { CancelledError, ProcessPoolExecutor } from "@procpool/procpool";
   * import assert from "node:assert/strict";
   *
   * const module = new URL("../conformance/tasks/basic.ts", import.meta.url);
   * await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1 });
   * const controller = new AbortController();
   * const future = pool.submitWith({ signal: controller.signal }, "double", 21);
   * controller.abort(); // still pending: the pool hands tasks to workers only once this code awaits
   * assert.equal(future.cancelled(), true);
   * await assert.rejects(future.result(), CancelledError);
   *
   * // A signal that never aborts: the task runs as with submit().
   * assert.equal(await pool.submitWith({ signal: new AbortController().signal }, "double", 21), 42);
   * // A signal aborted already: nothing is submitted.
   * assert.throws(() => pool.submitWith({ signal: AbortSignal.abort(new Error("stop")) }, "double", 1), {
   *   message: "stop",
   * });
   * ```
   */
  submitWith<F extends TaskFunction>(
    options: SubmitOptions,
    fn: F,
    ...args: Parameters<F>
  ): Future<Awaited<ReturnType<F>>>;
  /**
   * Schedules the export named `fn` with `options`, as above; the result type `R` is the caller's to state.
   *
   * @typeParam R The task's result type.
   */
  submitWith<R = unknown>(options: SubmitOptions, fn: string, ...args: unknown[]): Future<R>;
  submitWith(options: SubmitOptions, fn: TaskFunction | string, ...args: unknown[]): Future<unknown> {
    if (options === null || typeof options !== "object") {
      throw new TypeError(`Cannot submit: options must be an object such as { signal }, got ${describeValue(options)}`);
    }
    const signal = checkSignal(options.signal, "submit");
    this.#checkOpen();
    checkTaskFunction(fn);
    // After the other checks: an aborted signal must not hide a programming error or a closed pool.
    signal?.throwIfAborted();
    const future = this.#submitTask(fn, args, CALL);
    if (signal !== undefined) cancelOnAbort(future, signal);
    return future;
  }

  /**
   * Runs `fn` on every item of `iterable`: all items are submitted now, and the results are yielded in input
   * order. Iteration throws the first failed item's error at its position, after the earlier results; when it
   * throws or the consumer stops early, every item not yet started is cancelled.
   *
   * @param fn An export of the task module, or its name.
   * @param iterable The items, each passed as the one argument.
   * @param options `timeout` (from this call), `chunksize` (items per message) and `signal` (aborting it cancels
   *   the items not yet started, and iteration throws `signal.reason`).
   * @throws {unknown} `signal.reason`, when the signal is aborted already: nothing is submitted.
   * @throws {RangeError} `chunksize` not an integer ≥ 1 ("chunksize must be >= 1."), or a NaN timeout.
   * @throws {TypeError} a non-iterable; options that are an iterable (Python's `map(fn, xs, ys)`: use `starmap`);
   *   a `signal` that is not an AbortSignal.
   * @throws {BrokenProcessPool} / {RuntimeError} as `submit`, unless `iterable` is empty.
   */
  map<F extends TaskFunction>(
    fn: F | string,
    iterable: Iterable<Parameters<F>[0]>,
    options?: MapOptions,
  ): MapIterator<Awaited<ReturnType<F>>> {
    const { chunksize, timeout, signal } = checkMapOptions(options);
    checkIterable(iterable, "Cannot map: iterable must be an iterable");
    signal?.throwIfAborted();
    const results = this.#mapItems(fn, [...iterable], false, chunksize, timeout, signal);
    return results as MapIterator<Awaited<ReturnType<F>>>;
  }

  /**
   * Like {@linkcode ProcessPoolExecutor.map}, but each item is an argument list: `fn(...item)`
   * (Python's `itertools.starmap`, or `map` with several iterables).
   *
   * @throws {TypeError} when an item is not iterable.
   */
  starmap<F extends TaskFunction>(
    fn: F | string,
    iterable: Iterable<Parameters<F>>,
    options?: MapOptions,
  ): MapIterator<Awaited<ReturnType<F>>> {
    const { chunksize, timeout, signal } = checkMapOptions(options, "starmap");
    checkIterable(iterable, "Cannot starmap: iterable must be an iterable");
    signal?.throwIfAborted();
    const argLists: unknown[][] = [];
    for (const item of iterable as Iterable<unknown>) {
      checkIterable(item, "Cannot starmap: each item of iterable must be an iterable of arguments");
      argLists.push([...(item as Iterable<unknown>)]);
    }
    return this.#mapItems(fn, argLists, true, chunksize, timeout, signal) as MapIterator<Awaited<ReturnType<F>>>;
  }

  /**
   * Stops the pool: no new work is accepted; work already submitted still runs (unless `cancelFutures`), then
   * the workers exit. Safe to call again and concurrently; every call resolves.
   *
   * @param options `wait` (default true): resolve once everything finished and every worker exited;
   *   `cancelFutures` (default false): first cancel every future that has not started.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (options === null || typeof options !== "object") {
      throw new TypeError(`Cannot shut down: options must be an object, got ${describeValue(options)}`);
    }
    const { wait = true, cancelFutures = false } = options;
    if (typeof wait !== "boolean") {
      throw new TypeError(`Cannot shut down: wait must be a boolean, got ${describeValue(wait)}`);
    }
    if (typeof cancelFutures !== "boolean") {
      throw new TypeError(`Cannot shut down: cancelFutures must be a boolean, got ${describeValue(cancelFutures)}`);
    }
    if (this.#state === "open") this.#state = "shutting-down";
    if (cancelFutures && this.#state === "shutting-down") {
      for (const item of this.#pending.drain()) {
        if (item.future.cancel()) item.future.setRunningOrNotifyCancel();
        else this.#pending.push(item); // the one in the call queue is RUNNING: it still runs, as in CPython
      }
    }
    this.#settle();
    return wait ? this.#closed.promise : Promise.resolve();
  }

  /** `shutdown()` with its defaults, for `await using pool = new ProcessPoolExecutor(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  #checkOpen(): void {
    if (this.#state === "broken") throw new BrokenProcessPool(BROKEN_SUBMIT_MESSAGE, { cause: this.#brokenCause });
    if (this.#state !== "open") throw new RuntimeError(SHUTDOWN_SUBMIT_MESSAGE);
  }

  // map() and starmap(): every item is submitted now; `spread` items are argument lists, others one argument.
  #mapItems(
    fn: TaskFunction | string,
    items: unknown[],
    spread: boolean,
    chunksize: number,
    timeout: number | undefined,
    signal: AbortSignal | undefined,
  ): ResultIterator<unknown> {
    if (items.length === 0) return new ResultIterator([], false, undefined, signal);
    this.#checkOpen();
    checkTaskFunction(fn);
    const deadline = timeout === undefined ? undefined : now() + timeout;
    const futures: Future<unknown>[] = [];
    if (chunksize === 1) {
      for (const item of items) futures.push(this.#submitTask(fn, spread ? item as unknown[] : [item], CALL));
    } else {
      const mode = spread ? STAR_CHUNK : MAP_CHUNK;
      for (let i = 0; i < items.length; i += chunksize) {
        futures.push(this.#submitTask(fn, items.slice(i, i + chunksize), mode));
      }
    }
    return new ResultIterator(futures, chunksize > 1, deadline, signal);
  }

  // `args` is an array this pool owns: an argument list (CALL) or a chunk's items. A call that fails for its
  // function or a broken module fails before its arguments are encoded: buffers marked by transfer() stay put.
  #submitTask(fn: TaskFunction | string, args: unknown[], mode: Mode): Future<unknown> {
    const future = new Future<unknown>();
    let fnIndex: number | undefined;
    if (this.#taskModule !== undefined) {
      fnIndex = this.#taskModule.indexOf(fn);
      if (fnIndex === undefined) {
        future.setException(this.#taskModule.notExported(fn));
        return future;
      }
    }
    if (this.#loadError !== undefined) {
      future.setException(this.#loadError.error);
      return future;
    }
    let encoded: Encoded;
    const buffers = this.#carriesBuffers ? new Buffers(this.#movesBuffers) : undefined;
    try {
      encoded = encodeOwned(args, buffers);
    } catch (error) {
      future.setException(new TypeError(`Cannot send the arguments of ${nameOf(fn)}: ${messageOf(error)}`));
      return future;
    }
    const item: WorkItem = {
      id: nextTaskId++,
      future,
      fn,
      fnIndex,
      args: encoded,
      buffers: buffers?.asValue ? buffers : undefined,
      mode,
      reserved: false,
    };
    this.#pending.push(item);
    this.#keepAlive.hold();
    if (!this.#dispatchQueued) {
      this.#dispatchQueued = true;
      queueMicrotask(this.#dispatchSoon);
    }
    return future;
  }

  // Resolves the item's function to its index in the export table; on failure, fails its future with a TypeError
  // and returns false.
  #resolveFunction(item: WorkItem): boolean {
    if (item.fnIndex !== undefined) return true;
    item.fnIndex = this.#taskModule!.indexOf(item.fn);
    if (item.fnIndex !== undefined) return true;
    if (!item.future.done()) item.future.setException(this.#taskModule!.notExported(item.fn));
    return false;
  }

  // Imports the task module and loads the backend, side by side; dispatch starts once both are there.
  async #load(): Promise<void> {
    const backendLoad = typeof this.#backendOption === "object"
      ? Promise.resolve(this.#backendOption)
      : loadBackend(this.#backendOption, { module: this.#module, denoPermissions: this.#denoPermissions });
    backendLoad.catch(() => {}); // observed below, after the import; never an unhandled rejection
    let taskModule: TaskModule;
    try {
      taskModule = new TaskModule(this.#module, await import(this.#module));
    } catch (error) {
      const reported = importError(error, this.#module);
      this.#loadError = { error: reported };
      for (const item of this.#pending.drain()) if (!item.future.done()) item.future.setException(reported);
      this.#settle();
      return;
    }
    this.#taskModule = taskModule;
    let backend: Backend;
    try {
      backend = await backendLoad;
    } catch (error) {
      return this.#markBroken(error);
    }
    this.#backend = backend;
    this.#maxWorkers = this.#maxWorkersOption ?? Math.max(1, backend.defaultMaxWorkers);
    let initializer: string | undefined;
    if (typeof this.#initializer === "function") {
      const index = taskModule.indexOf(this.#initializer);
      initializer = index === undefined ? undefined : taskModule.functions[index];
      if (initializer === undefined) {
        return this.#markBroken(
          new TypeError(`initializer ${nameOf(this.#initializer)} is not an export of ${this.#module}`),
        );
      }
    } else {
      initializer = this.#initializer;
    }
    this.#hello = {
      module: this.#module,
      functions: taskModule.functions,
      initializer,
      initArgs: this.#initArgs,
      maxTasks: this.#maxTasks,
    };
    this.#dispatch();
  }

  // Hands pending tasks out one by one to the least busy ready worker with room, then sends each worker its share
  // as one message; what is left waits for the next worker to be ready (#startWorkersFor). A task cancelled,
  // already done (a caller's setResult), or naming no export is settled here and never reaches a worker, nor makes
  // one start.
  #dispatch(): void {
    this.#dispatchQueued = false;
    if (this.#hello === undefined) return;
    const shares = this.#shares;
    while (this.#pending.size > 0 && this.#state !== "broken") {
      const item = this.#pending.peek()!;
      if (!isStillPending(item) || !this.#resolveFunction(item)) {
        this.#pending.shift();
        continue;
      }
      const worker = this.#pickWorker(shares);
      if (worker === undefined) break;
      this.#pending.shift();
      const share = shares.get(worker);
      if (share === undefined) shares.set(worker, [item]);
      else share.push(item);
    }
    if (this.#pending.size > 0 && this.#state !== "broken") this.#startWorkersFor();
    for (const [worker, items] of shares) this.#assign(worker, items);
    shares.clear();
    this.#settle();
  }

  // The tasks no ready worker has room for wait here, in the parent, for whichever worker is ready first: none
  // is pinned to a worker still starting, whose slow start (or initializer) would hold it while another worker
  // idles. A worker starts for each waiting task that no starting worker will take, while there is room for one.
  // CPython's shared call queue holds calls RUNNING (no longer cancellable) before any worker took them, each for
  // whichever worker is free first: the first waiting tasks are held so, one per starting worker and one more.
  // CPython holds up to max_workers + 1 of them even while its workers are busy; holding fewer keeps more of
  // procpool's queued tasks cancellable.
  #startWorkersFor(): void {
    let starting = 0;
    for (const worker of this.#workers) if (worker.state === "starting") starting++;
    let waiting = 0;
    // Cancelled tasks deep in the queue are dropped only when they reach its front: look past a few of them.
    const horizon = Math.min(this.#pending.size, this.#maxWorkers + 1 + LOOK_PAST);
    for (let i = 0; i < horizon; i++) {
      const item = this.#pending.at(i)!;
      // Only looked at: a cancelled task is told it never runs when it reaches the front (isStillPending).
      if (!isWaiting(item)) continue;
      waiting++;
      if (waiting > starting && this.#workers.size < this.#maxWorkers) {
        // A worker the runtime refuses to start breaks the pool, which has failed every waiting task.
        if (this.#spawn() === undefined) return;
        starting++;
      }
      if (waiting > starting + 1) break;
      if (!item.reserved) {
        item.reserved = true;
        item.future.setRunningOrNotifyCancel();
      }
    }
  }

  // Hands a worker its share. When the transport cannot carry the share in one message (too large), each task
  // goes alone, and only those that cannot be sent at all fail, with the transport's error; none runs twice,
  // because a message the transport refuses was not sent at all.
  #assign(worker: PoolWorker, items: WorkItem[]): void {
    // Callbacks run while tasks failed above may have cancelled or completed some of these futures.
    items = items.filter(isStillPending);
    if (items.length === 0) return;
    try {
      worker.assign(items);
      return;
    } catch (error) {
      if (items.length === 1) return this.#unsendable(items[0], error);
    }
    for (const item of items) {
      if (!isStillPending(item)) continue;
      try {
        worker.assign([item]);
      } catch (error) {
        this.#unsendable(item, error);
      }
    }
  }

  #unsendable(item: WorkItem, error: unknown): void {
    if (item.future.done()) return;
    item.future.setException(new TypeError(`Cannot send the arguments of ${nameOf(item.fn)}: ${messageOf(error)}`));
  }

  // An idle ready worker first; else the least busy with room (counting what this dispatch has already given each).
  #pickWorker(shares: Map<PoolWorker, WorkItem[]>): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    let bestLoad = Infinity;
    for (const worker of this.#workers) {
      const given = shares.get(worker)?.length ?? 0;
      if (worker.room() - given <= 0) continue;
      const load = worker.load + given;
      if (load === 0) return worker;
      if (load < bestLoad) {
        best = worker;
        bestLoad = load;
      }
    }
    return best;
  }

  #spawn(): PoolWorker | undefined {
    let handle: WorkerHandle;
    try {
      handle = this.#backend!.spawn();
    } catch (error) {
      // A worker the runtime refuses to start (Deno without --unstable-worker-options for restricted workers).
      this.#markBroken(error);
      return undefined;
    }
    const worker = new PoolWorker(handle, this.#maxTasks);
    this.#workers.add(worker);
    handle.onMessage((message) => this.#onMessage(worker, message));
    handle.onExit((exit) => this.#onExit(worker, exit));
    handle.send([HELLO, this.#hello!] satisfies ToWorker, this.#initBuffers);
    return worker;
  }

  #onMessage(worker: PoolWorker, data: unknown): void {
    if (worker.state === "exited" || this.#state === "broken") return;
    let message: FromWorker;
    try {
      message = checkFromWorker(data);
    } catch (error) {
      this.#markBroken(new WorkerProtocolError(this.#backend!.name, worker.handle.id, error as FrameError));
      return;
    }
    switch (message[0]) {
      case READY:
        worker.markReady();
        return this.#dispatch();
      case RESULTS: {
        const [, ids, statuses, values, busyMs] = message;
        for (let i = 0; i < ids.length; i++) this.#complete(worker, ids[i], statuses[i], values[i]);
        return this.#afterResults(worker, ids.length, busyMs);
      }
      case RESULT_ONE:
        this.#complete(worker, message[1], message[2], message[3]);
        return this.#afterResults(worker, 1, message[4]);
      case FATAL: {
        let error: unknown;
        try {
          error = this.#taskModule!.decode(message[2]);
        } catch (reason) {
          error = new WorkerProtocolError(this.#backend!.name, worker.handle.id, reason as Error);
        }
        worker.markFatal(error);
        this.#markBroken(error);
        return;
      }
      case EXITING:
        return;
    }
  }

  #afterResults(worker: PoolWorker, count: number, busyMs: number): void {
    worker.adapt(count, busyMs);
    this.#dispatch();
    worker.restIfIdle();
  }

  #complete(worker: PoolWorker, id: number, status: Status, value: Encoded): void {
    const item = worker.take(id);
    if (item === undefined) return;
    const future = item.future;
    if (future.done()) return;
    let decoded: unknown;
    try {
      if (item.mode === CALL) decoded = this.#taskModule!.decode(value);
      else if (status === RETURNED) {
        decoded = { values: this.#taskModule!.decode(value) as unknown[], failed: false } satisfies ChunkOutcome;
      } else {
        const [values, error] = value as [Encoded, Encoded];
        decoded = {
          values: this.#taskModule!.decode(values) as unknown[],
          failed: true,
          error: this.#taskModule!.decode(error),
        } satisfies ChunkOutcome;
      }
    } catch (error) {
      // R8.4: a value the parent cannot decode fails only its own future.
      future.setException(new TypeError(`Cannot decode the result: ${messageOf(error)}`));
      return;
    }
    if (status === RETURNED || item.mode !== CALL) future.setResult(decoded);
    else future.setException(decoded);
  }

  #onExit(worker: PoolWorker, exit: WorkerExit): void {
    if (!worker.exited() && this.#state !== "broken") {
      // Still in #workers, so that its in-flight futures fail with the rest.
      this.#markBroken(worker.fatal?.error ?? new WorkerExitError(this.#backend!.name, worker.handle.id, exit));
    }
    this.#workers.delete(worker);
    if (this.#pending.size > 0) this.#dispatch();
    else this.#settle();
  }

  // The broken flag is set before any future fails, so that a callback's submit() already throws (CPython).
  #markBroken(cause: unknown): void {
    if (this.#state === "broken" || this.#state === "closed") return;
    this.#state = "broken";
    this.#brokenCause = cause;
    const items: WorkItem[] = this.#pending.drain();
    // A dispatch under way (a worker that failed to start) has shares not yet sent: they fail with the rest.
    for (const share of this.#shares.values()) items.push(...share);
    this.#shares.clear();
    for (const worker of this.#workers) {
      items.push(...worker.takeAll());
      // A worker that reported a failing import or initializer exits by itself once its output is out: killing it
      // could cut that output short (a thread's is lost when it is terminated).
      if (worker.fatal === undefined) worker.kill();
    }
    items.sort((a, b) => a.id - b.id);
    for (const item of items) {
      if (!item.future.done()) item.future.setException(new BrokenProcessPool(BROKEN_FUTURE_MESSAGE, { cause }));
    }
    this.#settle();
  }

  // Stops idle workers once shut down, resolves shutdown once all exited, and keeps the event loop alive exactly
  // while there is work, or workers to see out after shutdown (R7.7: an idle, open pool never holds it).
  #settle(): void {
    let busy = this.#pending.size > 0;
    for (const worker of this.#workers) if (worker.load > 0) busy = true;
    const holdLoop = busy || (this.#state !== "open" && this.#workers.size > 0);
    if (holdLoop) this.#keepAlive.hold();
    else this.#keepAlive.release();
    if (this.#state === "open" || busy) return;
    // A retiring worker exits by itself once its last task is done; stop() leaves it alone (a stop sent now could
    // meet a closed pipe).
    for (const worker of this.#workers) worker.stop();
    if (this.#workers.size === 0) {
      this.#keepAlive.dispose();
      if (this.#state === "shutting-down") this.#state = "closed";
      this.#closed.resolve();
    }
  }
}

// Whether a task may still go to a worker: pending, or RUNNING in the parent's call queue (see #startWorkersFor); a
// cancelled one is marked notified on the way (CPython's order).
function isStillPending(item: WorkItem): boolean {
  if (isWaiting(item)) return true;
  if (item.future.state === "CANCELLED") item.future.setRunningOrNotifyCancel();
  return false;
}

// Whether a task still waits for a worker, without a side effect.
function isWaiting(item: WorkItem): boolean {
  const state = item.future.state;
  return state === "PENDING" || (item.reserved && state === "RUNNING");
}

function nameOf(fn: WorkItem["fn"]): string {
  return typeof fn === "string" ? fn : fn.name || "(anonymous)";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

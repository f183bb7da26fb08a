// One worker as the pool sees it: its state machine, the tasks it holds, and how many more it may be given.

import type { Future } from "./future.ts";
import {
  type Buffers,
  type Encoded,
  joinBuffers,
  type Mode,
  type OneTask,
  RUN,
  RUN_ONE,
  STOP,
  type TaskBatch,
  type ToWorker,
} from "./protocol.ts";
import type { WorkerHandle } from "./runtime/backend.ts";

/** A task on its way through the pool: submitted, pending, then held by one worker until its outcome is in. */
export interface WorkItem {
  readonly id: number;
  readonly future: Future<unknown>;
  /** The function as given to `submit` (an export or its name), and its index in the export table once resolved. */
  // deno-lint-ignore ban-types
  readonly fn: Function | string;
  fnIndex: number | undefined;
  readonly args: Encoded;
  /** The buffers `args` holds as themselves, if any (only for a backend that carries them). */
  readonly buffers: Buffers | undefined;
  readonly mode: Mode;
  /** Made RUNNING while still in the parent, as the one call CPython queues beyond its workers. */
  reserved: boolean;
}

/**
 * A worker's states. `starting` until the initializer ran, then `ready`; `retiring` once it was given its last
 * task under `maxTasksPerChild` (it exits by itself after it); `stopping` once told to stop or killed; `exited`.
 * Only `ready` workers are given tasks: a task never waits for one worker to start while another could run it.
 */
export type PoolWorkerState = "starting" | "ready" | "retiring" | "stopping" | "exited";

// The dispatch window (R4.1): a worker starts with one task in flight, so that no task waits in a worker's queue
// while another worker could start it; the window widens, at most doubling per reply, while tasks are quick,
// until a worker holds about QUEUE_MS of work (never more than MAX_WINDOW tasks); slow tasks narrow it back to
// one, so that queued slow work stays pending, cancellable, and free to go to whichever worker is idle first.
const INITIAL_WINDOW = 1;
const MAX_WINDOW = 4096;
const QUEUE_MS = 4;

/** The pool's record of one worker. Every transition checks the state it starts from, then sets the new one. */
export class PoolWorker {
  /** The backend's handle. */
  readonly handle: WorkerHandle;
  // The tasks handed to it whose outcome has not come back, by id.
  readonly #inflight = new Map<number, WorkItem>();
  #fatal: { readonly error: unknown } | undefined;
  #state: PoolWorkerState = "starting";
  readonly #maxTasks: number | undefined;
  #assigned = 0;
  #window = INITIAL_WINDOW;
  #averageMs: number | undefined;

  constructor(handle: WorkerHandle, maxTasks: number | undefined) {
    this.handle = handle;
    this.#maxTasks = maxTasks;
  }

  /** The current state. */
  get state(): PoolWorkerState {
    return this.#state;
  }

  /** How many tasks it holds whose outcome has not come back. */
  get load(): number {
    return this.#inflight.size;
  }

  /** What the worker reported when its import or initializer failed, once it did. */
  get fatal(): { readonly error: unknown } | undefined {
    return this.#fatal;
  }

  /** The worker reported that its task module's import or its initializer failed with `error`; it exits next. */
  markFatal(error: unknown): void {
    this.#fatal ??= { error };
  }

  /** Takes every task it holds out of flight (the pool broke), first submitted first. */
  takeAll(): WorkItem[] {
    const items = [...this.#inflight.values()];
    this.#inflight.clear();
    return items;
  }

  /** How many more tasks it may be given now: 0 unless it is ready. */
  room(): number {
    if (this.#state !== "ready") return 0;
    // A window narrowed below what the worker holds leaves it no room, not a debt.
    const left = Math.max(0, this.#window - this.#inflight.size);
    return this.#maxTasks === undefined ? left : Math.min(left, this.#maxTasks - this.#assigned);
  }

  /** Its initializer ran: `starting` → `ready`. */
  markReady(): void {
    if (this.#state === "starting") this.#state = "ready";
  }

  /**
   * Hands `items` over as one message. Throws what the transport threw when it cannot carry them, and then has
   * changed nothing (the transports encode a message whole before they send any of it). On success the items are
   * in flight, and their futures RUNNING; a worker given its last task under `maxTasksPerChild` is `retiring`.
   */
  assign(items: readonly WorkItem[]): void {
    if (this.room() < items.length) throw new RangeError(`a ${this.#state} worker cannot take ${items.length} tasks`);
    const buffers = items.length === 1 ? items[0].buffers : joinBuffers(items.map((item) => item.buffers));
    this.handle.send(runMessage(items), buffers);
    for (const item of items) {
      if (!item.reserved) item.future.setRunningOrNotifyCancel();
      this.#inflight.set(item.id, item);
    }
    this.#assigned += items.length;
    if (this.#assigned === this.#maxTasks) this.#state = "retiring";
  }

  /** Takes the item with `id` out of flight, if this worker holds it. */
  take(id: number): WorkItem | undefined {
    const item = this.#inflight.get(id);
    if (item !== undefined) this.#inflight.delete(id);
    return item;
  }

  /** Adapts the window to `count` outcomes that took the worker `busyMs`. */
  adapt(count: number, busyMs: number): void {
    if (count === 0) return;
    const perTask = busyMs / count;
    this.#averageMs = this.#averageMs === undefined ? perTask : this.#averageMs * 0.7 + perTask * 0.3;
    const target = Math.max(
      INITIAL_WINDOW,
      Math.min(MAX_WINDOW, Math.floor(QUEUE_MS / Math.max(this.#averageMs, 1e-4))),
    );
    this.#window = target > this.#window ? Math.min(target, this.#window * 2) : target;
  }

  /** A worker left with nothing to do starts its next burst from a small window again. */
  restIfIdle(): void {
    if (this.#inflight.size === 0) this.#window = INITIAL_WINDOW;
  }

  /** Asks a `starting` or `ready` worker to exit once its tasks are done: → `stopping`. Else does nothing. */
  stop(): void {
    if (this.#state !== "starting" && this.#state !== "ready") return;
    this.#state = "stopping";
    this.handle.send([STOP] satisfies ToWorker);
  }

  /** Kills it: → `stopping`, unless it has exited. */
  kill(): void {
    if (this.#state === "exited") return;
    this.#state = "stopping";
    void this.handle.terminate();
  }

  /** It has exited: → `exited`. Returns whether the pool expected it (told to stop, or retired with no work). */
  exited(): boolean {
    const expected = this.#state === "stopping" || (this.#state === "retiring" && this.#inflight.size === 0);
    this.#state = "exited";
    return expected;
  }
}

// The "run" message that hands `items` to a worker: a lone task flat, with its arguments spread at the end; more
// tasks column by column, a column whose values are all the same sent once.
function runMessage(items: readonly WorkItem[]): TaskBatch | OneTask {
  const first = items[0];
  if (items.length === 1 && Array.isArray(first.args)) {
    return [RUN_ONE, first.id, first.fnIndex!, first.mode, ...first.args];
  }
  const n = items.length;
  const ids = new Array<number>(n);
  const fns = new Array<number>(n);
  const args = new Array<Encoded>(n);
  const modes = new Array<Mode>(n);
  let sameFn = true;
  let sameMode = true;
  for (let i = 0; i < n; i++) {
    const item = items[i];
    ids[i] = item.id;
    fns[i] = item.fnIndex!;
    args[i] = item.args;
    modes[i] = item.mode;
    sameFn &&= item.fnIndex === first.fnIndex;
    sameMode &&= item.mode === first.mode;
  }
  return [RUN, ids, sameFn ? first.fnIndex! : fns, args, sameMode ? first.mode : modes];
}

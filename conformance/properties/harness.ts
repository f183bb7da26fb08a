// The runtime side of a property run: one real pool, the futures it returned, and recorders for callback calls,
// logger calls, unhandled rejections, gates and "task ran" markers — everything turned into the model's data.

import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import {
  BrokenExecutor,
  BrokenProcessPool,
  CancelledError,
  type Future,
  FuturesError,
  InvalidStateError,
  ProcessPoolExecutor,
  RuntimeError,
  setLogger,
  TimeoutError,
  WorkerExitError,
} from "../../mod.ts";
import { taskModule } from "../_backends.ts";
import {
  type CallbackCall,
  type CallbackSpec,
  type FutureView,
  LOCAL_FUNCTION_NAME,
  type LogRecord,
  type ObservedState,
  type Outcome,
  type PoolSpec,
  show,
  type TaskCall,
  type TaskSpec,
  type ThrownDesc,
  type UnsendableKind,
  type Violation,
} from "../model.ts";
import * as pb from "../tasks/pb_tasks.ts";
import { natsTarget } from "./nats_target.ts";

/**
 * The backends a runtime offers (see _backends.ts), and "nats": workers that the agents of a real nats-server run
 * as processes on this host (see nats_target.ts).
 */
export type BackendName = "process" | "worker" | "nats";

/** Whether a task may kill its own worker process: on the process backends, not inside a thread of this one. */
export function workersAreProcesses(backend: string): boolean {
  return backend === "process" || backend === "nats";
}

/** Thrown by a command when the pool broke a rule; carries the violations for the report. */
export class ConformanceError extends Error {
  static {
    this.prototype.name = "ConformanceError";
  }
  readonly violations: readonly Violation[];
  constructor(violations: readonly Violation[]) {
    super(violations.map((v) => `${v.rule} ${v.message}`).join("\n"));
    this.violations = violations;
  }
}

// A local function the task module does not export (R2.7), under the name the model expects.
const notExported = { [LOCAL_FUNCTION_NAME]: (..._args: unknown[]) => 1 }[LOCAL_FUNCTION_NAME];

// Classes a thrown value is recognised as, most derived first.
const CLASSES: readonly [string, abstract new (...args: never[]) => unknown][] = [
  ["BrokenProcessPool", BrokenProcessPool],
  ["BrokenExecutor", BrokenExecutor],
  ["RuntimeError", RuntimeError],
  ["CancelledError", CancelledError],
  ["InvalidStateError", InvalidStateError],
  ["FuturesError", FuturesError],
  ["TimeoutError", TimeoutError],
  ["WorkerExitError", WorkerExitError],
  ["PbError", pb.PbError],
  ["AggregateError", AggregateError],
  ["TypeError", TypeError],
  ["RangeError", RangeError],
  ["SyntaxError", SyntaxError],
  ["ReferenceError", ReferenceError],
  ["EvalError", EvalError],
  ["URIError", URIError],
  ["Error", Error],
];

/** Describes a thrown value as model data: exact class, name, message, own enumerable properties, cause. */
export function describeThrown(value: unknown, depth = 0): ThrownDesc {
  if (!(value instanceof Error) || depth > 6) return { isError: false, value };
  const proto = Object.getPrototypeOf(value);
  const known = CLASSES.find(([, cls]) => cls.prototype === proto);
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(value)) props[key] = (value as unknown as Record<string, unknown>)[key];
  const hasCause = Object.hasOwn(value, "cause");
  return {
    isError: true,
    proto: known?.[0] ?? `other:${(proto as { constructor?: { name?: string } } | null)?.constructor?.name ?? "?"}`,
    name: value.name,
    message: value.message,
    props,
    hasCause,
    cause: hasCause ? describeThrown(value.cause, depth + 1) : undefined,
    errors: value instanceof AggregateError ? Array.from(value.errors, (e) => describeThrown(e, depth + 1)) : undefined,
  };
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Settles `promise` within `ms`, or reports that it did not; the timer never outlives the call. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<{ ok: true; value: T } | { ok: false }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<{ ok: false }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false }), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ ok: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every few ms for at most `ms`; returns whether it came true. */
export async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await sleep(3);
  }
  return true;
}

function unsendable(kind: UnsendableKind): unknown {
  return kind === "function" ? () => 1 : kind === "symbol" ? Symbol("unsendable") : new WeakMap();
}

/** The state a future's predicates show. */
export function stateOf(future: Future<unknown>): ObservedState {
  if (future.cancelled()) return "cancelled";
  if (future.done()) return "finished";
  return future.running() ? "running" : "pending";
}

/** How long a run waits for a future, a wait or a shutdown before it calls it hung. */
export const HANG_MS = 15_000;

/** One pool under test and what was recorded around it. */
export class Harness {
  readonly backend: BackendName;
  readonly spec: PoolSpec;
  readonly module: URL = taskModule("pb_tasks.ts");
  readonly pool: ProcessPoolExecutor;
  readonly dir: string;
  readonly futures: Future<unknown>[] = [];
  /** The `#ID` of each future's repr. */
  readonly ids: number[] = [];
  readonly gates: (string | undefined)[] = [];
  readonly calls: CallbackCall[] = [];
  readonly logs: LogRecord[] = [];
  readonly rejections: unknown[] = [];
  readonly uncaught: unknown[] = [];
  phase = "";
  #gateCount = 0;
  readonly #tokens = new Map<unknown, string>();
  readonly #previousLogger;
  readonly #onRejection = (reason: unknown) => void this.rejections.push(reason);
  readonly #onUncaught = (error: unknown) => void this.uncaught.push(error);
  // Where the NATS agents' logs stood when this pool was made (the "nats" backend only).
  readonly #agentLogMark: number[] | undefined;

  constructor(backend: BackendName, spec: PoolSpec) {
    this.backend = backend;
    this.spec = spec;
    this.dir = mkdtempSync(join(tmpdir(), "procpool-pb-"));
    process.on("unhandledRejection", this.#onRejection);
    process.on("uncaughtException", this.#onUncaught);
    this.#previousLogger = setLogger((message, error) => {
      this.logs.push({
        message,
        error: this.#tokens.get(error) ?? (typeof error === "string" ? error : `<other ${show(error)}>`),
      });
    });
    const init = spec.init;
    this.#agentLogMark = backend === "nats" ? natsTarget().mark() : undefined;
    this.pool = new ProcessPoolExecutor({
      module: this.module,
      backend: backend === "nats" ? natsTarget().backend() : backend,
      maxWorkers: spec.maxWorkers,
      maxTasksPerChild: spec.maxTasksPerChild,
      initializer: init.kind === "none" ? undefined : "pbInit",
      initArgs: init.kind === "none" ? [] : [init],
    });
  }

  get moduleHref(): string {
    return this.module.href;
  }

  /** A job for `run`: the spec, its marker, and a closed gate if asked. */
  job(spec: TaskSpec, mark: string, gated: boolean): pb.Job {
    const gate = gated ? join(this.dir, `gate-${this.#gateCount++}`) : undefined;
    const init = this.spec.init;
    return { spec, mark: join(this.dir, mark), gate, checkInit: init.kind === "ok" };
  }

  /** Calls `submit` as `call` says; throws what submit throws. */
  submit(call: TaskCall, index: number): Future<unknown> {
    const plain: TaskSpec = { do: "return", value: index, async: false, ms: 0 };
    switch (call.via) {
      case "name":
      case "function": {
        const job = this.job(call.spec, `f${index}`, call.gate);
        const future = call.via === "name" ? this.pool.submit("run", job) : this.pool.submit(pb.run, job);
        this.gates[index] = job.gate;
        return future;
      }
      case "unknown": {
        const job = this.job(plain, `f${index}`, false);
        return call.target === "localFunction"
          ? this.pool.submit(notExported, job)
          : this.pool.submit(call.target, job);
      }
      case "unsendableArg":
        return this.pool.submit("run", this.job(plain, `f${index}`, false), unsendable(call.kind));
    }
  }

  /** Records a future that submit returned. */
  track(future: Future<unknown>): number {
    const index = this.futures.push(future) - 1;
    this.ids[index] = Number(/#(\d+)/.exec(String(future))?.[1] ?? -1);
    return index;
  }

  /** Runs `fn` with `phase` naming the synchronous API call in progress, for the callbacks it runs. */
  inPhase<T>(phase: string, fn: () => T): T {
    const previous = this.phase;
    this.phase = phase;
    try {
      return fn();
    } catch (error) {
      throw this.explain(error, `from ${phase}`);
    } finally {
      this.phase = previous;
    }
  }

  /**
   * R3.3: what a done-callback throws is logged, never thrown at whoever made the future finish. Turns such an
   * error, wherever it surfaced, into a violation; returns any other error as it is.
   */
  explain(error: unknown, where: string): unknown {
    const token = this.#tokens.get(error) ??
      (typeof error === "string" && error.startsWith("<callback ") ? error : undefined);
    if (token === undefined) return error;
    return new ConformanceError([{
      rule: "R3.3",
      message: `the error of a done-callback, ${token}, escaped ${where}`,
    }]);
  }

  /** Adds callback number `callback` to future `index`; returns whether the future was done just before. */
  addCallback(index: number, callback: number, spec: CallbackSpec): boolean {
    const future = this.futures[index];
    const wasDone = future.done();
    const token = `<callback f${index}.${callback} ${spec}>`;
    this.inPhase(`add f${index}.${callback}`, () =>
      future.addDoneCallback((f) => {
        const call = { future: index, callback, phase: this.phase, sawDone: f.done(), sawItself: f === future };
        if (spec === "ok") {
          this.calls.push(call);
          return;
        }
        this.calls.push({ ...call, thrown: token });
        if (spec === "throwsValue") throw token;
        const error = new Error(token);
        this.#tokens.set(error, token);
        throw error;
      }));
    return wasDone;
  }

  /** Opens the gate of future `index` (if it has one); returns whether it had one. */
  openGate(index: number): boolean {
    const gate = this.gates[index];
    if (gate === undefined) return false;
    if (!existsSync(gate)) writeFileSync(gate, "");
    return true;
  }

  /**
   * Opens the gates of futures `0 … last` after `ms`, unless `stop()` came first: a wait without a timeout gets a
   * moment to show whether it returns too early, then the gated tasks may finish. `opened` lists what it opened.
   */
  openGatesAfter(last: number, ms: number): { stop(): void; opened: number[] } {
    const opened: number[] = [];
    const timer = setTimeout(() => {
      for (let i = 0; i <= last; i++) if (this.openGate(i)) opened.push(i);
    }, ms);
    return { stop: () => clearTimeout(timer), opened };
  }

  /** Opens a gate by path. */
  openPath(gate: string | undefined): void {
    if (gate !== undefined && !existsSync(gate)) writeFileSync(gate, "");
  }

  /** The outcome of a done future through `result()`, `exception()`, `cancelled()`; R2.2 and R4.3 on the way. */
  async outcomeOf(index: number): Promise<{ outcome: Outcome; violations: Violation[] }> {
    const future = this.futures[index];
    const violations: Violation[] = [];
    const label = `f${index}`;
    if (future.cancelled()) {
      for (const [what, promise] of [["result()", future.result()], ["exception()", future.exception()]] as const) {
        const settled = await promise.then(() => undefined, (e: unknown) => e);
        if (!(settled instanceof CancelledError)) {
          violations.push({ rule: "R4.3", message: `${label} is cancelled, but ${what} gave ${show(settled)}` });
        }
      }
      return { outcome: { kind: "cancelled" }, violations };
    }
    let failed = false;
    let error: unknown;
    let value: unknown;
    try {
      value = await future.result();
    } catch (e) {
      failed = true;
      error = e;
    }
    try {
      const exception = await future.exception();
      if (failed ? !Object.is(exception, error) : exception !== undefined) {
        violations.push({
          rule: "R2.2",
          message: `${label}: exception() gave ${show(exception)} while result() ${
            failed ? `rejected with ${show(error)}` : "resolved"
          }`,
        });
      }
    } catch (e) {
      violations.push({ rule: "R2.2", message: `${label}: exception() rejected with ${show(e)}` });
    }
    return {
      outcome: failed ? { kind: "raised", thrown: describeThrown(error) } : { kind: "returned", value },
      violations,
    };
  }

  /** Every future's state, and the outcome of those done. */
  async views(): Promise<{ views: FutureView[]; violations: Violation[] }> {
    const views: FutureView[] = [];
    const violations: Violation[] = [];
    const states = this.futures.map(stateOf);
    const reprs = this.futures.map(String);
    for (let i = 0; i < this.futures.length; i++) {
      const state = states[i];
      if (state === "pending" || state === "running") {
        views.push({ state, repr: reprs[i] });
        continue;
      }
      const { outcome, violations: found } = await this.outcomeOf(i);
      violations.push(...found);
      views.push({ state, outcome, repr: reprs[i] });
    }
    return { views, violations };
  }

  /** Waits (bounded) until future `index` is done. */
  async settle(index: number, ms = HANG_MS): Promise<boolean> {
    const future = this.futures[index];
    if (!future.done()) await future.exception(ms).catch(() => undefined);
    return future.done();
  }

  /** The markers left by tasks that ran: marker name → pid of the worker that ran it. */
  ran(): Map<string, number> {
    const ran = new Map<string, number>();
    for (const name of readdirSync(this.dir)) {
      const dot = name.lastIndexOf(".");
      if (dot > 0) ran.set(name.slice(0, dot), Number(name.slice(dot + 1)));
    }
    return ran;
  }

  /**
   * The pids of this pool's worker processes, none for threads: those that left a marker, and on the "nats"
   * backend also every worker the agents report having started for it (one that never ran a task included).
   */
  workerPids(): number[] {
    if (!workersAreProcesses(this.backend)) return [];
    const pids = new Set([...this.ran().values()].filter((pid) => pid !== process.pid && pid > 0));
    if (this.#agentLogMark !== undefined) {
      for (const pid of natsTarget().startedSince(this.#agentLogMark)) pids.add(pid);
    }
    return [...pids];
  }

  /** Puts everything back: gates open, pool shut down (bounded), logger and listeners restored, files gone. */
  async dispose(): Promise<void> {
    try {
      for (let i = 0; i < this.gates.length; i++) this.openGate(i);
      for (let i = 0; i < this.#gateCount; i++) this.openPath(join(this.dir, `gate-${i}`));
      const stopped = await within(this.pool.shutdown({ cancelFutures: true }), HANG_MS);
      if (!stopped.ok) {
        // The pool hung: do not leave its worker processes behind on the test machine.
        for (const pid of this.workerPids()) {
          try {
            process.kill(pid, "SIGKILL");
          } catch { /* already gone */ }
        }
      }
    } finally {
      // Late rejections or errors from this pool still count as this run's; give them a moment to surface.
      await sleep(1);
      setLogger(this.#previousLogger);
      process.off("unhandledRejection", this.#onRejection);
      process.off("uncaughtException", this.#onUncaught);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Whether a process with this pid still exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

// Task module for the property-based suite: one task, `run`, that acts out a generated task spec (return,
// throw, crash, return the unsendable), plus the initializer and the error classes the specs name.

import { existsSync, writeFileSync } from "node:fs";
import process from "node:process";

/** An error class this module exports: a rebuilt error of this class is an instance of it in the parent. */
export class PbError extends Error {
  static {
    this.prototype.name = "PbError";
  }
}

// Not exported: in the parent it comes back as a plain Error that keeps the name "HiddenError".
class HiddenError extends Error {
  static {
    this.prototype.name = "HiddenError";
  }
}

/** Not a function: submitting it by name must fail with a TypeError. */
export const notAFunction = 42;

/**
 * A thrown value as a spec describes it: an error to build, or any other value thrown as it is. `C` names the
 * error classes allowed (the model narrows it; the task module takes any name).
 */
export type ThrownSpecData<C extends string = string> =
  | {
    readonly kind: "error";
    readonly cls: C;
    readonly message: string;
    readonly props: Readonly<Record<string, unknown>>;
    readonly cause?: ThrownSpecData<C>;
    readonly errors?: readonly ThrownSpecData<C>[];
  }
  | { readonly kind: "value"; readonly value: unknown };

/** What `run` is asked to do (the model's TaskSpec, as data). */
export type TaskSpecData =
  | { readonly do: "return"; readonly value: unknown; readonly async: boolean; readonly ms: number }
  | { readonly do: "throw"; readonly error: ThrownSpecData; readonly async: boolean; readonly ms: number }
  | { readonly do: "unsendable"; readonly what: "result" | "error"; readonly kind: string; readonly async: boolean }
  | {
    readonly do: "crash";
    readonly how: "exit" | "kill" | "exitLater";
    readonly code: number;
    readonly signal: string;
    readonly ms: number;
  };

/** One call of `run`: the spec, where to leave the "I ran" marker, the gate to wait for, what init to expect. */
export interface Job {
  readonly spec: TaskSpecData;
  /** A path prefix: the task writes `${mark}.${pid}` when it starts. */
  readonly mark: string;
  /** A path: the task waits (polling) until this file exists, at most GATE_MAX_MS. */
  readonly gate?: string;
  /** Whether an initializer must have completed in this worker before any task runs (R1.1). */
  readonly checkInit: boolean;
}

/** The initializer as a spec describes it. */
export type InitSpecData =
  | { readonly kind: "none" }
  | { readonly kind: "ok"; readonly async: boolean; readonly ms: number }
  | { readonly kind: "throw"; readonly error: ThrownSpecData; readonly async: boolean }
  | { readonly kind: "exit"; readonly code: number };

const GATE_MAX_MS = 8_000;
const BUILTINS: Readonly<Record<string, new (message: string, options?: ErrorOptions) => Error>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  PbError,
  HiddenError,
};

let initCalls = 0;
let initDone = false;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* the worker is really occupied */ }
}

/** Builds the value a spec says to throw. */
export function buildThrown(spec: ThrownSpecData): unknown {
  if (spec.kind === "value") return spec.value;
  const options = spec.cause === undefined ? undefined : { cause: buildThrown(spec.cause) };
  const error = spec.cls === "AggregateError"
    ? new AggregateError((spec.errors ?? []).map(buildThrown), spec.message, options)
    : new BUILTINS[spec.cls](spec.message, options);
  Object.assign(error, spec.props);
  return error;
}

/** The initializer: succeeds (at once or after a pause), throws, rejects, or ends its worker. */
export function pbInit(spec: InitSpecData): unknown {
  initCalls++;
  switch (spec.kind) {
    case "none":
      initDone = true;
      return undefined;
    case "ok":
      if (!spec.async) {
        initDone = true;
        return undefined;
      }
      return delay(spec.ms).then(() => {
        initDone = true;
      });
    case "throw":
      if (spec.async) return delay(1).then(() => Promise.reject(buildThrown(spec.error)));
      throw buildThrown(spec.error);
    case "exit":
      return process.exit(spec.code);
  }
}

async function waitForGate(path: string): Promise<void> {
  const end = Date.now() + GATE_MAX_MS;
  while (!existsSync(path) && Date.now() < end) await delay(2);
}

function unsendable(kind: string): unknown {
  switch (kind) {
    case "function":
      return () => 1;
    case "symbol":
      return Symbol("unsendable");
    default:
      return new WeakMap();
  }
}

/** Acts out `job.spec`. Throws an Error whose message starts with "R1.1" when it runs before the initializer. */
export function run(job: Job): unknown {
  writeFileSync(`${job.mark}.${process.pid}`, "");
  if (job.checkInit && (!initDone || initCalls !== 1)) {
    throw new Error(`R1.1 violated: task ran with initDone=${initDone} after ${initCalls} initializer calls`);
  }
  const spec = job.spec;
  if (spec.do === "crash") return crash(spec);
  if (spec.do === "unsendable") {
    const act = () => {
      if (spec.what === "result") return { nested: [unsendable(spec.kind)] };
      const error = new PbError("carries an unsendable property") as PbError & { payload?: unknown };
      error.payload = unsendable(spec.kind);
      throw error;
    };
    return spec.async ? delay(1).then(act) : act();
  }
  const finish = (): unknown => {
    if (spec.do === "return") return spec.value;
    throw buildThrown(spec.error);
  };
  if (job.gate === undefined && !spec.async) {
    if (spec.ms > 0) busy(spec.ms);
    return finish();
  }
  return (async () => {
    if (job.gate !== undefined) await waitForGate(job.gate);
    if (spec.ms > 0) await delay(spec.ms);
    return finish();
  })();
}

function crash(spec: Extract<TaskSpecData, { do: "crash" }>): unknown {
  switch (spec.how) {
    case "exit":
      return process.exit(spec.code);
    case "kill":
      process.kill(process.pid, spec.signal);
      // A signal is delivered asynchronously; never return a result meanwhile.
      return new Promise(() => {});
    case "exitLater":
      setTimeout(() => process.exit(spec.code), spec.ms);
      return "exiting later";
  }
}

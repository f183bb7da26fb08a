// The reference model of the property-based suite: what a user of a pool must observe, under the rule book
// (docs/rules.md), for a generated scenario. Pure: no pool, no timers, no I/O — only data in and
// verdicts out, so that it is also the executable form of the rules.
//
// The model is an observer. A scenario runs step by step; before each step the runner shows the model the
// states of all futures (`observe`), then tells it what the step did and saw. Where the rule book allows more
// than one observation (a cancel that may land before or after dispatch, a crash that may or may not catch a
// future in flight), the model keeps the set of allowed outcomes, and learns from what was observed (a
// `cancel()` that returned true makes "cancelled" the only allowed outcome). Everything deterministic —
// values, error classes and properties, callback order, messages, map prefixes — is compared exactly.

import type { ThrownSpecData } from "./tasks/pb_tasks.ts";

/** CPython's message for a future that a broken pool failed (R1.3). */
export const BROKEN_FUTURE_MESSAGE =
  "A process in the process pool was terminated abruptly while the future was running or pending.";
/** CPython's message for `submit` on a broken pool (R1.4). */
export const BROKEN_SUBMIT_MESSAGE = "A child process terminated abruptly, the process pool is not usable anymore";
/** CPython's message for `submit` after shutdown (R7.1). */
export const SHUTDOWN_SUBMIT_MESSAGE = "cannot schedule new futures after shutdown";

// ---------------------------------------------------------------------------------------------------------------
// The scenario vocabulary (what arbitraries.ts generates)

/** Built-in error classes a task may throw. */
export type BuiltinErrorClass =
  | "Error"
  | "TypeError"
  | "RangeError"
  | "SyntaxError"
  | "ReferenceError"
  | "EvalError"
  | "URIError";
/** Every class a task may throw: built-ins, AggregateError, the module's exported PbError, an unexported class. */
export type ErrorClass = BuiltinErrorClass | "AggregateError" | "PbError" | "HiddenError";

/** A thrown value: an error to build (with properties, cause, AggregateError members), or a non-Error value. */
export type ThrownSpec = ThrownSpecData<ErrorClass>;

/** Values that no transport can carry (R2.6). */
export type UnsendableKind = "function" | "symbol" | "weakmap";
export type CrashHow = "exit" | "kill" | "exitLater";

/** What a task does once it runs (conformance/tasks/pb_tasks.ts `run` acts it out). */
export type TaskSpec =
  | { readonly do: "return"; readonly value: unknown; readonly async: boolean; readonly ms: number }
  | { readonly do: "throw"; readonly error: ThrownSpec; readonly async: boolean; readonly ms: number }
  | {
    readonly do: "unsendable";
    readonly what: "result" | "error";
    readonly kind: UnsendableKind;
    readonly async: boolean;
  }
  | {
    readonly do: "crash";
    readonly how: CrashHow;
    readonly code: number;
    readonly signal: "SIGKILL" | "SIGTERM";
    readonly ms: number;
  };

/** Names under which `submit` must find no task (R2.7); "localFunction" submits a function the module lacks. */
export type UnknownTarget =
  | "noSuchTask"
  | "constructor"
  | "toString"
  | "__proto__"
  | "hasOwnProperty"
  | "notAFunction"
  | "localFunction";

/** One `submit` call. */
export type TaskCall =
  | { readonly via: "name" | "function"; readonly spec: TaskSpec; readonly gate: boolean }
  | { readonly via: "unknown"; readonly target: UnknownTarget }
  | { readonly via: "unsendableArg"; readonly kind: UnsendableKind };

/** The pool's initializer. */
export type InitSpec =
  | { readonly kind: "none" }
  | { readonly kind: "ok"; readonly async: boolean; readonly ms: number }
  | { readonly kind: "throw"; readonly error: ThrownSpec; readonly async: boolean }
  | { readonly kind: "exit"; readonly code: number };

/** The pool's options. */
export interface PoolSpec {
  readonly maxWorkers: number;
  readonly maxTasksPerChild?: number;
  readonly init: InitSpec;
}

/** A done-callback: returns, throws an Error, or throws a non-Error value. */
export type CallbackSpec = "ok" | "throwsError" | "throwsValue";

/** One `map` or `starmap` call and how its consumer iterates. */
export interface MapSpec {
  readonly star: boolean;
  readonly items: readonly { readonly spec: TaskSpec; readonly gate: boolean }[];
  readonly chunksize: number;
  /** `timeout` option, in ms; the runner keeps gated items' gates closed until iteration ends. */
  readonly timeout?: number;
  /** The consumer breaks out after this many items. */
  readonly stopAfter?: number;
}

export type ReturnWhen = "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED";

// ---------------------------------------------------------------------------------------------------------------
// Observations (what the runner saw, as plain data)

/** A thrown value as observed: an Error described by its class, name, message, properties and cause. */
export type ThrownDesc =
  | { readonly isError: false; readonly value: unknown }
  | {
    readonly isError: true;
    /** The class the error is an instance of (its prototype): a built-in name, "PbError", a procpool class name,
     * or "other:<constructor name>". */
    readonly proto: string;
    readonly name: string;
    readonly message: string;
    readonly props: Readonly<Record<string, unknown>>;
    readonly hasCause: boolean;
    readonly cause?: ThrownDesc;
    readonly errors?: readonly ThrownDesc[];
  };

/** How a future ended, as observed through `result()`, `exception()` and `cancelled()`. */
export type Outcome =
  | { readonly kind: "returned"; readonly value: unknown }
  | { readonly kind: "raised"; readonly thrown: ThrownDesc }
  | { readonly kind: "cancelled" }
  | { readonly kind: "unsettled" };

/** A future's state as the predicates show it. */
export type ObservedState = "pending" | "running" | "finished" | "cancelled";

/** One future in a snapshot: its state and, once done, its outcome. */
export interface FutureView {
  readonly state: ObservedState;
  readonly outcome?: Outcome;
  /** `String(future)`, read together with the state. */
  readonly repr?: string;
}

/** What a synchronous pool call (submit, map, shutdown) did: returned, or threw. */
export type CallResult = { readonly threw: false } | { readonly threw: true; readonly error: ThrownDesc };

/** A done-callback call, as the runner recorded it. */
export interface CallbackCall {
  readonly future: number;
  readonly callback: number;
  /** The synchronous API call in progress when it ran ("add f2.1", "cancel f2", …), or "" if none. */
  readonly phase: string;
  readonly sawDone: boolean;
  readonly sawItself: boolean;
  /** A token naming what it threw, if it threw. */
  readonly thrown?: string;
}

/** A logger call, as the runner recorded it. */
export interface LogRecord {
  readonly message: string;
  /** The token of the logged error when it is something a callback threw, else a description. */
  readonly error: string;
}

/** A rule the pool broke: the rule id (docs/rules.md) and what was seen. */
export interface Violation {
  readonly rule: string;
  readonly message: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Predictions

/** An expected thrown value; `messageIncludes` for messages the rule book only constrains loosely. */
export type ThrownExpect =
  | { readonly isError: false; readonly value: unknown }
  | {
    readonly isError: true;
    readonly proto: string;
    readonly name: string;
    readonly message?: string;
    readonly messageIncludes?: readonly string[];
    readonly props?: Readonly<Record<string, unknown>>;
    readonly hasCause?: boolean;
    readonly cause?: ThrownExpect;
    readonly errors?: readonly ThrownExpect[];
  };

/** One allowed outcome. */
export type Prediction =
  | { readonly kind: "returns"; readonly value: unknown; readonly rule: string }
  | { readonly kind: "raises"; readonly thrown: ThrownExpect; readonly rule: string }
  | { readonly kind: "broken"; readonly rule: string }
  | { readonly kind: "cancelled"; readonly rule: string }
  | { readonly kind: "timeout"; readonly rule: string };

/** R2.3, R2.5: how a thrown value comes back to the parent. */
export function predictThrown(spec: ThrownSpec): ThrownExpect {
  if (spec.kind === "value") return { isError: false, value: spec.value };
  return {
    isError: true,
    // A built-in class or an exported class comes back as itself; any other as an Error keeping its name.
    proto: spec.cls === "HiddenError" ? "Error" : spec.cls,
    name: spec.cls,
    message: spec.message,
    props: spec.props,
    hasCause: spec.cause !== undefined,
    cause: spec.cause === undefined ? undefined : predictThrown(spec.cause),
    errors: spec.cls === "AggregateError" ? (spec.errors ?? []).map(predictThrown) : undefined,
  };
}

/** What a task yields when it runs to completion on a healthy pool. */
export function predictTask(spec: TaskSpec): Prediction {
  switch (spec.do) {
    case "return":
      return { kind: "returns", value: spec.value, rule: "R10.1" };
    case "throw":
      return {
        kind: "raises",
        thrown: predictThrown(spec.error),
        rule: spec.error.kind === "value" ? "R2.5" : "R2.3",
      };
    case "unsendable":
      return {
        kind: "raises",
        thrown: { isError: true, proto: "TypeError", name: "TypeError", messageIncludes: [unsendableWord(spec.kind)] },
        rule: "R2.6",
      };
    case "crash":
      // exitLater returns first and breaks the pool once its worker is idle (R8.3).
      return spec.how === "exitLater"
        ? { kind: "returns", value: "exiting later", rule: "R8.3" }
        : { kind: "broken", rule: "R8.1" };
  }
}

/** The word an unsendable value's TypeError names. */
export function unsendableWord(kind: UnsendableKind): string {
  return kind === "weakmap" ? "WeakMap" : kind;
}

/** The name a local function that is no export of the module has (the runner defines it under this name). */
export const LOCAL_FUNCTION_NAME = "notExportedTask";

/** What a `submit` call yields on a healthy pool. */
export function predictCall(call: TaskCall, moduleHref: string): Prediction {
  switch (call.via) {
    case "name":
    case "function":
      return predictTask(call.spec);
    case "unknown": {
      const name = call.target === "localFunction" ? LOCAL_FUNCTION_NAME : call.target;
      return {
        kind: "raises",
        thrown: { isError: true, proto: "TypeError", name: "TypeError", messageIncludes: [moduleHref, name] },
        rule: "R2.7",
      };
    }
    case "unsendableArg":
      return {
        kind: "raises",
        thrown: { isError: true, proto: "TypeError", name: "TypeError", messageIncludes: [unsendableWord(call.kind)] },
        rule: "R2.6",
      };
  }
}

/** Whether a task may break the pool when it runs (R8.1, R8.3). */
export function mayCrash(spec: TaskSpec): boolean {
  return spec.do === "crash";
}

/** Whether a task finishes faster than a message round trip, which lets the dispatch window widen (R4.1). */
export function isQuick(spec: TaskSpec, gated: boolean): boolean {
  if (gated) return false;
  if (spec.do === "return" || spec.do === "throw") return spec.ms < 8;
  return true;
}

/** Whether the initializer fails, so that no task can ever run (R1.2). */
export function initFails(init: InitSpec): boolean {
  return init.kind === "throw" || init.kind === "exit";
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison

/** Structural equality for the values the transport carries (R10.1): `Object.is` on leaves, cycles allowed. */
export function sameValue(a: unknown, b: unknown, pairs: Map<object, object> = new Map()): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (pairs.get(a) === b) return true;
  pairs.set(a, b);
  const tag = Object.prototype.toString.call(a);
  if (tag !== Object.prototype.toString.call(b)) return false;
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (a instanceof RegExp) return b instanceof RegExp && a.source === b.source && a.flags === b.flags;
  if (ArrayBuffer.isView(a)) {
    if (!ArrayBuffer.isView(b) || a.constructor !== b.constructor) return false;
    return sameBytes(
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
      new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
    );
  }
  if (a instanceof ArrayBuffer) return b instanceof ArrayBuffer && sameBytes(new Uint8Array(a), new Uint8Array(b));
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    const left = [...a];
    const right = [...b];
    return left.every(([k, v], i) => sameValue(k, right[i][0], pairs) && sameValue(v, right[i][1], pairs));
  }
  if (a instanceof Set) {
    if (!(b instanceof Set) || a.size !== b.size) return false;
    const right = [...b];
    return [...a].every((v, i) => sameValue(v, right[i], pairs));
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if ((i in a) !== (i in b) || !sameValue(a[i], b[i], pairs)) return false;
    }
    return true;
  }
  // Class instances arrive as plain objects (R10.1).
  if (Object.getPrototypeOf(b) !== Object.prototype) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  const recordA = a as Record<string, unknown>;
  const recordB = b as Record<string, unknown>;
  return keysA.every((k) => Object.hasOwn(recordB, k) && sameValue(recordA[k], recordB[k], pairs));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Why `observed` does not match `expected`, or undefined when it does. */
export function thrownMismatch(expected: ThrownExpect, observed: ThrownDesc, path = "error"): string | undefined {
  if (!expected.isError) {
    if (observed.isError) {
      return `${path}: expected the thrown value ${show(expected.value)}, got ${showThrown(observed)}`;
    }
    return sameValue(expected.value, observed.value)
      ? undefined
      : `${path}: expected the thrown value ${show(expected.value)}, got ${show(observed.value)}`;
  }
  if (!observed.isError) return `${path}: expected ${expected.name}, got the non-Error value ${show(observed.value)}`;
  if (observed.proto !== expected.proto) {
    return `${path}: expected an instance of ${expected.proto}, got one of ${observed.proto} (${showThrown(observed)})`;
  }
  if (observed.name !== expected.name) return `${path}: expected name ${expected.name}, got ${observed.name}`;
  if (expected.message !== undefined && observed.message !== expected.message) {
    return `${path}: expected message ${show(expected.message)}, got ${show(observed.message)}`;
  }
  for (const part of expected.messageIncludes ?? []) {
    if (!observed.message.includes(part)) {
      return `${path}: message ${show(observed.message)} does not name ${show(part)}`;
    }
  }
  for (const [key, value] of Object.entries(expected.props ?? {})) {
    if (!Object.hasOwn(observed.props, key)) return `${path}: own property ${key} is missing`;
    if (!sameValue(value, observed.props[key])) {
      return `${path}: property ${key} should be ${show(value)}, got ${show(observed.props[key])}`;
    }
  }
  if (expected.hasCause !== undefined && expected.hasCause !== observed.hasCause) {
    return `${path}: ${expected.hasCause ? "the cause is missing" : `unexpected cause ${show(observed.cause)}`}`;
  }
  if (expected.cause !== undefined) {
    if (observed.cause === undefined) return `${path}: the cause is missing`;
    const why = thrownMismatch(expected.cause, observed.cause, `${path}.cause`);
    if (why !== undefined) return why;
  }
  if (expected.errors !== undefined) {
    const errors = observed.errors ?? [];
    if (errors.length !== expected.errors.length) {
      return `${path}: expected ${expected.errors.length} AggregateError members, got ${errors.length}`;
    }
    for (let i = 0; i < errors.length; i++) {
      const why = thrownMismatch(expected.errors[i], errors[i], `${path}.errors[${i}]`);
      if (why !== undefined) return why;
    }
  }
  return undefined;
}

/** Why `outcome` is not the predicted one, or undefined when it is. */
export function outcomeMismatch(prediction: Prediction, outcome: Outcome): string | undefined {
  switch (prediction.kind) {
    case "returns":
      if (outcome.kind !== "returned") {
        return `expected the value ${show(prediction.value)}, got ${showOutcome(outcome)}`;
      }
      return sameValue(prediction.value, outcome.value)
        ? undefined
        : `expected the value ${show(prediction.value)}, got ${show(outcome.value)}`;
    case "raises":
      if (outcome.kind !== "raised") return `expected a failure, got ${showOutcome(outcome)}`;
      return thrownMismatch(prediction.thrown, outcome.thrown);
    case "broken":
      if (outcome.kind !== "raised") return `expected BrokenProcessPool, got ${showOutcome(outcome)}`;
      return thrownMismatch(BROKEN_EXPECT, outcome.thrown);
    case "timeout":
      if (outcome.kind !== "raised") return `expected TimeoutError, got ${showOutcome(outcome)}`;
      return thrownMismatch(TIMEOUT_EXPECT, outcome.thrown);
    case "cancelled":
      return outcome.kind === "cancelled" ? undefined : `expected cancelled, got ${showOutcome(outcome)}`;
  }
}

const BROKEN_EXPECT: ThrownExpect = {
  isError: true,
  proto: "BrokenProcessPool",
  name: "BrokenProcessPool",
  message: BROKEN_FUTURE_MESSAGE,
};
const TIMEOUT_EXPECT: ThrownExpect = { isError: true, proto: "TimeoutError", name: "TimeoutError" };

/** Checks `outcome` against a set of allowed predictions; the violation names the rule of the closest one. */
export function judge(allowed: readonly Prediction[], outcome: Outcome, label: string): Violation | undefined {
  if (outcome.kind === "unsettled") {
    return { rule: "R4.1", message: `${label} never settled (expected ${allowed.map(showPrediction).join(" or ")})` };
  }
  const reasons: string[] = [];
  for (const prediction of allowed) {
    const why = outcomeMismatch(prediction, outcome);
    if (why === undefined) return undefined;
    reasons.push(why);
  }
  // Blame the prediction of the same kind as the observation, if any: its rule is the one at stake.
  const sameKind = allowed.findIndex((p) =>
    (p.kind === "returns" && outcome.kind === "returned") ||
    (p.kind === "cancelled" && outcome.kind === "cancelled") ||
    (outcome.kind === "raised" && p.kind !== "returns" && p.kind !== "cancelled" && isKindOf(p, outcome.thrown))
  );
  const blamed = sameKind >= 0 ? sameKind : 0;
  return {
    rule: allowed[blamed]?.rule ?? "R4.1",
    message: `${label}: ${reasons[blamed] ?? "no outcome allowed"} (allowed: ${
      allowed.map(showPrediction).join(" | ")
    })`,
  };
}

function isKindOf(prediction: Prediction, thrown: ThrownDesc): boolean {
  const name = thrown.isError ? thrown.name : undefined;
  if (prediction.kind === "broken") return name === "BrokenProcessPool";
  if (prediction.kind === "timeout") return name === "TimeoutError";
  return name !== "BrokenProcessPool" && name !== "TimeoutError";
}

// ---------------------------------------------------------------------------------------------------------------
// Reprs (R3.3, R3.4)

/** The repr's TYPE: `typeof` for a primitive, "null", else the constructor's name. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object" && typeof value !== "function") return typeof value;
  const ctor = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor;
  return typeof ctor?.name === "string" && ctor.name !== "" ? ctor.name : "Object";
}

/** The `state=…` part of a done future's repr. */
export function reprState(outcome: Outcome): string | undefined {
  switch (outcome.kind) {
    case "cancelled":
      return "cancelled";
    case "returned":
      return `finished returned ${typeName(outcome.value)}`;
    case "raised":
      return `finished raised ${outcome.thrown.isError ? outcome.thrown.name : typeName(outcome.thrown.value)}`;
    case "unsettled":
      return undefined;
  }
}

/** The message R3.3 logs for a callback that threw. */
export function callbackLogMessage(futureId: number, outcome: Outcome): string {
  return `exception calling callback for <Future at #${futureId} state=${reprState(outcome)}>`;
}

// ---------------------------------------------------------------------------------------------------------------
// Readable text

/** A short, readable rendering of a value (cycles, Maps, Sets, bigints, -0 and undefined included). */
export function show(value: unknown, depth = 0, seen: Set<unknown> = new Set()): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (Object.is(value, -0)) return "-0";
  if (typeof value === "symbol") return value.toString();
  if (typeof value === "function") return `[function ${value.name}]`;
  if (value === null || typeof value !== "object") return String(value);
  if (seen.has(value)) return "[cycle]";
  if (depth > 3) return "…";
  seen.add(value);
  try {
    const inner = (v: unknown) => show(v, depth + 1, seen);
    if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? "invalid" : value.toISOString()})`;
    if (value instanceof RegExp) return String(value);
    if (value instanceof Map) return `Map{${[...value].map(([k, v]) => `${inner(k)} => ${inner(v)}`).join(", ")}}`;
    if (value instanceof Set) return `Set{${[...value].map(inner).join(", ")}}`;
    if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.byteLength} bytes)`;
    if (value instanceof ArrayBuffer) return `ArrayBuffer(${value.byteLength})`;
    if (value instanceof Error) return `${value.name}(${JSON.stringify(value.message)})`;
    if (Array.isArray(value)) {
      return `[${
        Array.from({ length: value.length }, (_, i) => (i in value ? inner(value[i]) : "<hole>")).join(", ")
      }]`;
    }
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${inner(v)}`);
    return `{${entries.join(", ")}}`;
  } finally {
    seen.delete(value);
  }
}

export function showThrown(thrown: ThrownDesc): string {
  if (!thrown.isError) return `thrown ${show(thrown.value)}`;
  const cause = thrown.hasCause ? ` cause=${thrown.cause === undefined ? "?" : showThrown(thrown.cause)}` : "";
  const props = Object.keys(thrown.props).length > 0 ? ` ${show(thrown.props)}` : "";
  return `${thrown.proto}${thrown.proto === thrown.name ? "" : `(name ${thrown.name})`}: ${
    JSON.stringify(thrown.message)
  }${props}${cause}`;
}

export function showOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case "returned":
      return `returned ${show(outcome.value)}`;
    case "raised":
      return `raised ${showThrown(outcome.thrown)}`;
    default:
      return outcome.kind;
  }
}

export function showPrediction(prediction: Prediction): string {
  switch (prediction.kind) {
    case "returns":
      return `returns ${show(prediction.value)}`;
    case "raises": {
      const t = prediction.thrown;
      return t.isError
        ? `raises ${t.name}${t.message === undefined ? "" : ` ${JSON.stringify(t.message)}`}`
        : `throws ${show(t.value)}`;
    }
    default:
      return prediction.kind;
  }
}

export function showThrownSpec(spec: ThrownSpec): string {
  if (spec.kind === "value") return show(spec.value);
  const props = Object.keys(spec.props).length > 0 ? ` ${show(spec.props)}` : "";
  const cause = spec.cause === undefined ? "" : ` cause=${showThrownSpec(spec.cause)}`;
  const errors = spec.errors === undefined ? "" : ` [${spec.errors.map(showThrownSpec).join(", ")}]`;
  return `${spec.cls}(${JSON.stringify(spec.message)})${props}${cause}${errors}`;
}

export function showTask(spec: TaskSpec): string {
  switch (spec.do) {
    case "return":
      return `return ${show(spec.value)}${spec.async ? " async" : ""}${spec.ms > 0 ? ` after ${spec.ms}ms` : ""}`;
    case "throw":
      return `throw ${showThrownSpec(spec.error)}${spec.async ? " async" : ""}${
        spec.ms > 0 ? ` after ${spec.ms}ms` : ""
      }`;
    case "unsendable":
      return `${spec.what === "result" ? "return" : "throw"} unsendable ${spec.kind}${spec.async ? " async" : ""}`;
    case "crash":
      return spec.how === "kill"
        ? `kill own worker ${spec.signal}`
        : `${spec.how === "exit" ? "exit" : `exit ${spec.ms}ms after returning,`} code ${spec.code}`;
  }
}

export function showCall(call: TaskCall): string {
  switch (call.via) {
    case "name":
    case "function":
      return `${call.via === "name" ? '"run"' : "run"}(${showTask(call.spec)})${call.gate ? " gated" : ""}`;
    case "unknown":
      return `${call.target === "localFunction" ? LOCAL_FUNCTION_NAME : JSON.stringify(call.target)}() [no such task]`;
    case "unsendableArg":
      return `"run"(<unsendable ${call.kind} argument>)`;
  }
}

export function showInit(init: InitSpec): string {
  switch (init.kind) {
    case "none":
      return "none";
    case "ok":
      return init.async ? `ok after ${init.ms}ms (async)` : "ok";
    case "throw":
      return `${init.async ? "rejects" : "throws"} ${showThrownSpec(init.error)}`;
    case "exit":
      return `exits with code ${init.code}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The pool model

interface CallbackModel {
  readonly spec: CallbackSpec;
  /** Whether the future was done when the callback was added, so it had to run at once (R3.2). */
  readonly addedWhenDone: boolean;
}

/** What the model knows of one submitted future. */
export interface FutureModel {
  readonly index: number;
  readonly label: string;
  /** Outcomes it may have if the pool never breaks. */
  readonly natural: readonly Prediction[];
  /** Whether BrokenProcessPool is allowed: the future was not known done when something that can break the pool
   * was submitted (R1.3). */
  breakable: boolean;
  /** Set once `cancel()` returned true or shutdown cancelled it (R4.2, R7.2). */
  cancelled: boolean;
  /** The gate the task waits for, if any, and whether it was opened. */
  gated: boolean;
  gateOpen: boolean;
  /** The marker the task leaves when it starts running, if it can reach a worker. */
  readonly mark: string | undefined;
  readonly crashes: boolean;
  lastState: ObservedState;
  outcome: Outcome | undefined;
  readonly callbacks: CallbackModel[];
  readonly id: number;
}

interface MapModel {
  readonly index: number;
  readonly marks: readonly string[];
  readonly chunksize: number;
  /** When set, at most this many items from `firstUnconsumed` on may have run (R5.3). */
  bound?: { readonly firstUnconsumed: number; readonly max: number };
}

/** The verdict of one step: violations (empty when all is well). */
export type Verdicts = Violation[];

/**
 * The state of the model for one pool. Each method takes what the runner did and saw, compares it with what
 * the rule book requires, updates what the model knows, and returns the violations.
 */
export class PoolModel {
  readonly spec: PoolSpec;
  readonly moduleHref: string;
  readonly futures: FutureModel[] = [];
  readonly maps: MapModel[] = [];
  /** Something that can break the pool was submitted (a crash task, or any task with a failing initializer). */
  breakPossible = false;
  /** A BrokenProcessPool was observed: the pool is known broken (R1.4). */
  knownBroken = false;
  shutdown = false;
  /** Whether a quick task may have widened a worker's dispatch window (R4.1). */
  windowMayBeWide = false;
  /** How submitted crashes end a worker ("code 3", "SIGKILL"): a BrokenProcessPool must name one of them (R8.2). */
  readonly crashHints = new Set<string>();

  constructor(spec: PoolSpec, moduleHref: string) {
    this.spec = spec;
    this.moduleHref = moduleHref;
    if (spec.init.kind === "exit") this.crashHints.add(`code ${spec.init.code}`);
  }

  #noteCrash(spec: TaskSpec): void {
    if (spec.do === "crash") this.crashHints.add(spec.how === "kill" ? spec.signal : `code ${spec.code}`);
  }

  /** R8.2: a pool broken by a dying worker says which worker died and how, in the error or its cause. */
  brokenDetail(thrown: ThrownDesc, label: string): Violation | undefined {
    // A failing initializer's error is the cause then (R1.2); only deaths are described by exit code or signal.
    if (this.spec.init.kind === "throw" || this.crashHints.size === 0) return undefined;
    const texts: string[] = [];
    for (
      let t: ThrownDesc | undefined = thrown;
      t !== undefined && texts.length < 5;
      t = t.isError ? t.cause : undefined
    ) {
      texts.push(t.isError ? t.message : show(t.value));
    }
    const text = texts.join(" / ");
    if ([...this.crashHints].some((hint) => text.includes(hint))) return undefined;
    return {
      rule: "R8.2",
      message: `${label}: BrokenProcessPool should say which worker died and how (one of ${
        show([...this.crashHints])
      }); its message and causes say ${show(text)}`,
    };
  }

  /** Whether no task can ever complete, because every worker's initializer fails (R1.2). */
  get initFails(): boolean {
    return initFails(this.spec.init);
  }

  /** The outcomes `future` may still end with. */
  allowed(future: FutureModel): Prediction[] {
    if (future.cancelled) return [{ kind: "cancelled", rule: "R4.2" }];
    const allowed = [...future.natural];
    if (future.breakable) allowed.push({ kind: "broken", rule: future.crashes || !this.initFails ? "R8.1" : "R1.3" });
    return allowed;
  }

  /** Whether the future cannot finish before its gate opens: nothing can break the pool and nothing cancels it. */
  certainlyUnfinished(future: FutureModel): boolean {
    return future.gated && !future.gateOpen && !future.breakable && !future.cancelled && future.outcome === undefined;
  }

  // ------------------------------------------------------------------------------------------------ states

  /** R4.1, R1.3: the states of all futures, seen between steps. */
  observe(views: readonly FutureView[]): Verdicts {
    const out: Violation[] = [];
    const wasBroken = this.knownBroken;
    views.forEach((view, i) => {
      const future = this.futures[i];
      if (future === undefined) return;
      const why = illegalTransition(future.lastState, view.state);
      if (why !== undefined) out.push({ rule: "R4.1", message: `${future.label}: ${why}` });
      future.lastState = view.state;
      if (view.outcome !== undefined) out.push(...this.#settled(future, view.outcome));
      // R3.4: the repr shows the state (and, once finished, the result's type or the error's name).
      const state = view.state === "pending" || view.state === "running"
        ? view.state
        : view.outcome === undefined
        ? undefined
        : reprState(view.outcome);
      const repr = `<Future at #${future.id} state=${state}>`;
      if (view.repr !== undefined && state !== undefined && view.repr !== repr) {
        out.push({
          rule: "R3.4",
          message: `${future.label}: String(future) is ${show(view.repr)}, expected ${show(repr)}`,
        });
      }
    });
    if (wasBroken) {
      // R1.3: once a BrokenProcessPool is seen, every future the pool had is done (the runner gives it a moment).
      for (const future of this.futures) {
        if (future.lastState === "pending" || future.lastState === "running") {
          out.push({ rule: "R1.3", message: `${future.label} is still ${future.lastState} after the pool broke` });
        }
      }
    }
    return out;
  }

  #settled(future: FutureModel, outcome: Outcome): Verdicts {
    if (future.outcome !== undefined) {
      return outcomeSame(future.outcome, outcome) ? [] : [{
        rule: "R4.1",
        message: `${future.label} changed its outcome from ${showOutcome(future.outcome)} to ${showOutcome(outcome)}`,
      }];
    }
    future.outcome = outcome;
    const out: Violation[] = [];
    if (outcome.kind === "raised" && outcome.thrown.isError && outcome.thrown.name === "BrokenProcessPool") {
      this.knownBroken = true;
      const detail = this.brokenDetail(outcome.thrown, future.label);
      if (detail !== undefined) out.push(detail);
    }
    const violation = judge(this.allowed(future), outcome, future.label);
    if (violation !== undefined) out.unshift(violation);
    return out;
  }

  // ------------------------------------------------------------------------------------------------ submit

  /** What a pool call that submits work (submit, non-empty map) may throw right now (R1.4, R7.1). */
  expectedSubmitErrors(): ThrownExpect[] {
    const broken: ThrownExpect = {
      isError: true,
      proto: "BrokenProcessPool",
      name: "BrokenProcessPool",
      message: BROKEN_SUBMIT_MESSAGE,
    };
    const closed: ThrownExpect = {
      isError: true,
      proto: "RuntimeError",
      name: "RuntimeError",
      message: SHUTDOWN_SUBMIT_MESSAGE,
    };
    if (this.knownBroken) return [broken];
    if (this.shutdown) return this.breakPossible ? [closed, broken] : [closed];
    return this.breakPossible ? [broken] : [];
  }

  /** Whether that call may also return normally. */
  submitMayReturn(): boolean {
    return !this.knownBroken && !this.shutdown;
  }

  #checkCall(result: CallResult, what: string): Verdicts {
    const errors = this.expectedSubmitErrors();
    const rule = this.knownBroken ? "R1.4" : this.shutdown ? "R7.1" : "R1.4";
    if (!result.threw) {
      return this.submitMayReturn()
        ? []
        : [{ rule, message: `${what} returned, but it must throw (${errors.map(showExpect).join(" or ")})` }];
    }
    if (errors.length === 0) {
      return [{ rule, message: `${what} threw ${showThrown(result.error)} on an open, healthy pool` }];
    }
    const reasons = errors.map((e) => thrownMismatch(e, result.error));
    if (reasons.some((r) => r === undefined)) {
      if (result.error.isError && result.error.name === "BrokenProcessPool") this.knownBroken = true;
      return [];
    }
    return [{ rule, message: `${what} threw the wrong error: ${reasons.join("; ")}` }];
  }

  /**
   * A `submit(call)` happened. `result` says whether it threw; `view` is the new future's state right after.
   * Returns the new future's model (or undefined when submit threw) and the violations.
   */
  submitted(
    call: TaskCall,
    result: CallResult,
    view: FutureView | undefined,
    id: number,
  ): { future?: FutureModel; verdicts: Verdicts } {
    const verdicts = this.#checkCall(result, `submit(${showCall(call)})`);
    if (result.threw || view === undefined) return { verdicts };
    const reachesWorker = call.via === "name" || call.via === "function";
    const crashes = reachesWorker && mayCrash(call.spec);
    // A task the worker never runs cannot break the pool, but an unknown name submitted before the parent has
    // imported the module waits for dispatch, which starts a worker.
    const triggersWorker = call.via !== "unsendableArg";
    if (crashes) this.#noteCrash(call.spec);
    if (triggersWorker && (crashes || this.initFails)) this.#breakPossibleNow();
    const natural: Prediction[] = [];
    if (!(reachesWorker && this.initFails)) natural.push(predictCall(call, this.moduleHref));
    const future: FutureModel = {
      index: this.futures.length,
      label: `f${this.futures.length} = submit(${showCall(call)})`,
      natural,
      breakable: this.breakPossible && call.via !== "unsendableArg",
      cancelled: false,
      gated: reachesWorker && call.gate,
      gateOpen: false,
      mark: reachesWorker ? `f${this.futures.length}` : undefined,
      crashes,
      lastState: view.state,
      outcome: undefined,
      callbacks: [],
      id,
    };
    this.futures.push(future);
    if (reachesWorker && isQuick(call.spec, call.gate)) this.windowMayBeWide = true;
    if (call.via === "unsendableArg" && view.state !== "finished") {
      verdicts.push({
        rule: "R2.6",
        message: `${future.label}: an argument that cannot be sent must fail the future at once`,
      });
    }
    if (view.outcome !== undefined) verdicts.push(...this.#settled(future, view.outcome));
    return { future, verdicts };
  }

  #breakPossibleNow(): void {
    if (this.breakPossible) return;
    this.breakPossible = true;
    for (const future of this.futures) if (future.outcome === undefined) future.breakable = true;
  }

  /** A gate was opened: the task may now finish. */
  gateOpened(index: number): void {
    const future = this.futures[index];
    if (future !== undefined) future.gateOpen = true;
  }

  // ------------------------------------------------------------------------------------------------ callbacks

  /** A callback was added; `wasDone` is `done()` just before the call (R3.1, R3.2). */
  callbackAdded(index: number, spec: CallbackSpec, wasDone: boolean): void {
    this.futures[index].callbacks.push({ spec, addedWhenDone: wasDone });
  }

  // ------------------------------------------------------------------------------------------------ cancel

  /**
   * `cancel()` was called on a future in state `before` and returned `returned`; `calls` are the callback calls
   * made during that cancel() (R4.2, R3.1).
   */
  cancelCalled(
    index: number,
    before: ObservedState,
    returned: boolean,
    after: ObservedState,
    calls: readonly CallbackCall[],
  ): Verdicts {
    const future = this.futures[index];
    const out: Violation[] = [];
    const expected = before === "pending" || before === "cancelled";
    if (returned !== expected) {
      out.push({ rule: "R4.2", message: `${future.label}: cancel() on a ${before} future returned ${returned}` });
    }
    if (returned && after !== "cancelled") {
      out.push({ rule: "R4.2", message: `${future.label}: cancel() returned true, but the future is ${after}` });
    }
    if (!returned && after !== before && !(before === "running" && after === "finished")) {
      out.push({
        rule: "R4.2",
        message: `${future.label}: cancel() returned false and moved the future from ${before} to ${after}`,
      });
    }
    if (returned && before === "pending") {
      future.cancelled = true;
      const ran = calls.filter((c) => c.future === index).map((c) => c.callback);
      const want = future.callbacks.map((_, i) => i);
      if (!sameValue(ran, want)) {
        out.push({
          rule: "R3.1",
          message: `${future.label}: cancel() must run its callbacks ${show(want)} at once, in order; ran ${show(ran)}`,
        });
      }
    }
    future.lastState = after;
    return out;
  }

  // ------------------------------------------------------------------------------------------------ result(timeout)

  /** `result(ms)` or `exception(ms)` was awaited: it timed out, or gave the outcome (R4.4). */
  resultWithTimeout(
    index: number,
    timedOut: boolean,
    outcome: Outcome | undefined,
    stateAfter: ObservedState,
    mustTimeOut: boolean,
  ): Verdicts {
    const future = this.futures[index];
    const out: Violation[] = [];
    if (mustTimeOut && !timedOut) {
      out.push({
        rule: "R4.4",
        message: `${future.label}: result(ms) must time out while the task waits for its gate`,
      });
    }
    if (timedOut && (stateAfter === "cancelled") && !future.cancelled) {
      out.push({
        rule: "R4.4",
        message: `${future.label}: a timed-out result(ms) changed the future to ${stateAfter}`,
      });
    }
    if (!timedOut && outcome !== undefined) out.push(...this.#settled(future, outcome));
    return out;
  }

  // ------------------------------------------------------------------------------------------------ map

  /** The allowed outcomes of each item of a map, and whether the call itself may throw. */
  expectMap(spec: MapSpec): { mayReturn: boolean; errors: ThrownExpect[]; items: Prediction[][] } {
    const empty = spec.items.length === 0;
    const errors = empty ? [] : this.expectedSubmitErrors();
    const mayReturn = empty || this.submitMayReturn();
    const crashes = spec.items.some((item) => mayCrash(item.spec));
    const breakable = this.breakPossible || crashes || this.initFails;
    let gatedSeen = false;
    const items = spec.items.map((item) => {
      const allowed: Prediction[] = [];
      gatedSeen ||= item.gate;
      // Past a gated item, iteration cannot go on: the gate stays closed until iteration ends.
      if (!gatedSeen && !this.initFails) allowed.push(predictTask(item.spec));
      if (breakable) allowed.push({ kind: "broken", rule: crashes ? "R8.1" : "R1.3" });
      if (spec.timeout !== undefined) allowed.push({ kind: "timeout", rule: "R5.4" });
      return allowed;
    });
    return { mayReturn, errors, items };
  }

  /**
   * A `map`/`starmap` ran: `result` is the call itself, `yielded` what iteration gave before it ended with `end`
   * (`stopped` when the consumer broke out). `marks` are the items' marker names.
   */
  mapped(
    spec: MapSpec,
    result: CallResult,
    yielded: readonly unknown[],
    end: { kind: "done" } | { kind: "stopped" } | { kind: "threw"; thrown: ThrownDesc } | { kind: "hung" },
    marks: readonly string[],
  ): Verdicts {
    const label = `map #${this.maps.length} (${
      spec.star ? "starmap" : "map"
    } of ${spec.items.length}, chunksize ${spec.chunksize})`;
    const expected = this.expectMap(spec);
    const out: Violation[] = [];
    const wasWide = this.windowMayBeWide;
    if (spec.items.length > 0 && !result.threw) {
      for (const item of spec.items) this.#noteCrash(item.spec);
      if (spec.items.some((item) => mayCrash(item.spec)) || this.initFails) this.#breakPossibleNow();
      if (spec.items.some((item) => isQuick(item.spec, item.gate))) this.windowMayBeWide = true;
    }
    if (result.threw) {
      const rule = spec.items.length === 0 ? "R5.6" : this.knownBroken ? "R1.4" : "R7.1";
      const ok = expected.errors.some((e) => thrownMismatch(e, result.error) === undefined);
      if (!ok) out.push({ rule, message: `${label}: the call threw ${showThrown(result.error)}` });
      else if (result.error.isError && result.error.name === "BrokenProcessPool") this.knownBroken = true;
      this.maps.push({ index: this.maps.length, marks, chunksize: spec.chunksize });
      return out;
    }
    if (!expected.mayReturn) {
      out.push({ rule: this.knownBroken ? "R1.4" : "R7.1", message: `${label}: the call returned, but it must throw` });
    }
    if (end.kind === "hung") out.push({ rule: "R5.1", message: `${label}: iteration never ended` });
    // R5.1, R5.2: the results in input order, then the first failure at its own position.
    for (let i = 0; i < yielded.length; i++) {
      const allowed = expected.items[i] ?? [];
      const ok = allowed.some((p) => p.kind === "returns" && sameValue(p.value, yielded[i]));
      if (!ok) {
        out.push({
          rule: "R5.1",
          message: `${label}: item ${i} yielded ${show(yielded[i])}; allowed ${
            allowed.map(showPrediction).join(" | ") || "nothing"
          }`,
        });
        break;
      }
    }
    const n = spec.items.length;
    if (end.kind === "done" && yielded.length !== n) {
      out.push({ rule: "R5.1", message: `${label}: iteration ended after ${yielded.length} of ${n} items` });
    }
    if (end.kind === "stopped" && yielded.length !== spec.stopAfter) {
      out.push({
        rule: "R5.1",
        message: `${label}: the consumer stopped after ${yielded.length}, not ${spec.stopAfter}`,
      });
    }
    if (end.kind === "threw") {
      const at = yielded.length;
      const allowed = (expected.items[at] ?? []).filter((p) => p.kind !== "returns");
      if (at >= n) {
        out.push({ rule: "R5.2", message: `${label}: iteration threw ${showThrown(end.thrown)} after the last item` });
      } else {
        const violation = judge(allowed, { kind: "raised", thrown: end.thrown }, `${label}, item ${at}`);
        if (violation !== undefined) {
          out.push({ rule: violation.rule === "R10.1" ? "R5.2" : violation.rule, message: violation.message });
        }
        if (end.thrown.isError && end.thrown.name === "BrokenProcessPool") {
          this.knownBroken = true;
          const detail = this.brokenDetail(end.thrown, `${label}, item ${at}`);
          if (detail !== undefined) out.push(detail);
        }
      }
    }
    // Gated items: iteration must stop with TimeoutError at the first one at the latest, unless the pool may break.
    const firstGate = spec.items.findIndex((item) => item.gate);
    if (firstGate >= 0 && !this.breakPossible && end.kind !== "stopped" && yielded.length > firstGate) {
      out.push({ rule: "R5.4", message: `${label}: item ${firstGate} waits for its gate, yet iteration went past it` });
    }
    const map: MapModel = { index: this.maps.length, marks, chunksize: spec.chunksize };
    // R5.3: an early stop or a failure cancels what has not started. With one worker, and only slow tasks so far
    // (the dispatch window stays at about two, R4.1), at most a window's worth of later chunks may still run.
    const firstUnconsumed = end.kind === "stopped" ? yielded.length : end.kind === "threw" ? yielded.length + 1 : n;
    const slowBefore = spec.items.slice(0, firstUnconsumed + 1).every((item) => !isQuick(item.spec, item.gate));
    if (
      this.spec.maxWorkers === 1 && !wasWide && slowBefore && !this.breakPossible && firstUnconsumed < n &&
      (end.kind === "stopped" || end.kind === "threw")
    ) {
      map.bound = { firstUnconsumed, max: 3 * spec.chunksize };
    }
    this.maps.push(map);
    return out;
  }

  // ------------------------------------------------------------------------------------------------ wait

  /**
   * `wait(targets, { returnWhen, timeout })` resolved after `elapsedMs` with `done`/`notDone` (future indices);
   * `states` are all futures' states just after, `failed` says which done futures failed, `doneBefore` which
   * targets were done before the call (R6.1, R6.3).
   */
  waited(
    targets: readonly number[],
    returnWhen: ReturnWhen,
    timeout: number | undefined,
    result: { done: readonly number[]; notDone: readonly number[]; elapsedMs: number } | "hung",
    states: readonly ObservedState[],
    failed: ReadonlySet<number>,
    doneBefore: readonly number[],
  ): Verdicts {
    const label = `wait([${targets.map((t) => `f${t}`).join(", ")}], ${returnWhen}${
      timeout === undefined ? "" : `, ${timeout}ms`
    })`;
    if (result === "hung") return [{ rule: "R6.1", message: `${label} never resolved` }];
    const out: Violation[] = [];
    const distinct = [...new Set(targets)].sort((a, b) => a - b);
    const seen = [...result.done, ...result.notDone].sort((a, b) => a - b);
    if (!sameValue(seen, distinct)) {
      out.push({
        rule: "R6.1",
        message: `${label}: done ∪ notDone is ${show(seen)}, not the distinct inputs ${show(distinct)}`,
      });
    }
    for (const i of result.done) {
      if (states[i] === "pending" || states[i] === "running") {
        out.push({ rule: "R6.1", message: `${label}: f${i} is in done but ${states[i]}` });
      }
    }
    for (const i of doneBefore) {
      if (result.notDone.includes(i)) {
        out.push({
          rule: this.futures[i]?.cancelled ? "R6.3" : "R6.1",
          message: `${label}: f${i} was done before the call, yet is in notDone`,
        });
      }
    }
    const holds = returnWhen === "ALL_COMPLETED"
      ? result.notDone.length === 0
      : returnWhen === "FIRST_COMPLETED"
      ? result.done.length > 0 || distinct.length === 0
      : result.notDone.length === 0 || result.done.some((i) => failed.has(i));
    if (!holds) {
      if (timeout === undefined) out.push({ rule: "R6.1", message: `${label} resolved before its condition held` });
      else if (result.elapsedMs < timeout - 2) {
        out.push({
          rule: "R6.1",
          message: `${label} resolved after ${
            result.elapsedMs.toFixed(1)
          }ms, before the timeout, with its condition unmet`,
        });
      }
    }
    return out;
  }

  /**
   * `asCompleted(targets, { timeout })` yielded `yielded` (indices, in order) and ended with `end`; `doneAtStart`
   * are the targets done at the first `next()`; `states` the targets' states when each was yielded (R6.2).
   */
  asCompletedRan(
    targets: readonly number[],
    timeout: number | undefined,
    doneAtStart: readonly number[],
    yielded: readonly { index: number; state: ObservedState }[],
    end: { kind: "done" } | { kind: "threw"; thrown: ThrownDesc; elapsedMs: number } | { kind: "hung" },
  ): Verdicts {
    const label = `asCompleted([${targets.map((t) => `f${t}`).join(", ")}]${
      timeout === undefined ? "" : `, ${timeout}ms`
    })`;
    const out: Violation[] = [];
    const distinct = new Set(targets);
    if (end.kind === "hung") return [{ rule: "R6.2", message: `${label} never ended` }];
    const order = yielded.map((y) => y.index);
    if (new Set(order).size !== order.length) {
      out.push({ rule: "R6.2", message: `${label} yielded a future twice: ${show(order)}` });
    }
    for (const y of yielded) {
      if (!distinct.has(y.index)) out.push({ rule: "R6.2", message: `${label} yielded f${y.index}, not an input` });
      if (y.state === "pending" || y.state === "running") {
        out.push({ rule: "R6.2", message: `${label} yielded f${y.index} while ${y.state}` });
      }
    }
    const first = new Set(order.slice(0, doneAtStart.length));
    if (doneAtStart.some((i) => !first.has(i))) {
      out.push({
        rule: "R6.2",
        message: `${label}: the futures already done (${show(doneAtStart)}) must come first; order was ${show(order)}`,
      });
    }
    const certain = [...distinct].filter((i) =>
      this.futures[i] !== undefined && this.certainlyUnfinished(this.futures[i])
    );
    if (end.kind === "done") {
      if (order.length !== distinct.size) {
        out.push({ rule: "R6.2", message: `${label} ended after ${order.length} of ${distinct.size}` });
      }
      if (timeout !== undefined && certain.length > 0) {
        out.push({
          rule: "R6.2",
          message: `${label}: ${certain.map((i) => `f${i}`).join(", ")} waits for its gate, yet no TimeoutError`,
        });
      }
    } else {
      const want = `${distinct.size - order.length} (of ${distinct.size}) futures unfinished`;
      const violation = thrownMismatch(
        { isError: true, proto: "TimeoutError", name: "TimeoutError", message: want },
        end.thrown,
      );
      if (timeout === undefined) {
        out.push({ rule: "R6.2", message: `${label} threw ${showThrown(end.thrown)} without a timeout` });
      } else if (violation !== undefined) out.push({ rule: "R6.2", message: `${label}: ${violation}` });
      else if (end.elapsedMs < timeout - 2) {
        out.push({
          rule: "R6.2",
          message: `${label} timed out after ${end.elapsedMs.toFixed(1)}ms, before its ${timeout}ms`,
        });
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------ shutdown

  /**
   * `shutdown({ cancelFutures, wait })` was called with the futures in `before`; it resolved (or hung), leaving
   * `after` (R7.2, R7.3).
   */
  shutdownCalled(
    options: { cancelFutures: boolean; wait: boolean },
    before: readonly ObservedState[],
    resolved: "resolved" | "late" | "hung",
    after: readonly ObservedState[],
  ): Verdicts {
    const out: Violation[] = [];
    const label = `shutdown(${show(options)})`;
    if (resolved === "hung") out.push({ rule: "R7.2", message: `${label} never resolved` });
    if (resolved === "late" && !options.wait) out.push({ rule: "R7.3", message: `${label} did not return at once` });
    before.forEach((state, i) => {
      const future = this.futures[i];
      if (future === undefined) return;
      if (options.cancelFutures && state === "pending" && !this.knownBroken) {
        if (after[i] !== "cancelled") {
          out.push({
            rule: "R7.2",
            message: `${label}: ${future.label} was pending, so it must be cancelled, but is ${after[i]}`,
          });
        }
        future.cancelled = true;
      }
      if (options.wait && resolved !== "hung" && (after[i] === "pending" || after[i] === "running")) {
        out.push({ rule: "R7.2", message: `${label} resolved while ${future.label} is ${after[i]}` });
      }
    });
    this.shutdown = true;
    return out;
  }

  // ------------------------------------------------------------------------------------------------ the end

  /**
   * After the final shutdown: every callback ran once, in order, in the right phase (R3.1, R3.2); every callback
   * error was logged, nothing else was (R3.3); cancelled tasks never ran (R4.2); an early-stopped map ran no
   * more than the dispatch window (R5.3).
   */
  finalCheck(calls: readonly CallbackCall[], logs: readonly LogRecord[], ran: ReadonlySet<string>): Verdicts {
    const out: Violation[] = [];
    const logged: string[] = [];
    for (const future of this.futures) {
      if (future.outcome === undefined || future.outcome.kind === "unsettled") continue;
      const mine = calls.filter((c) => c.future === future.index);
      const order = mine.map((c) => c.callback);
      const want = future.callbacks.map((_, i) => i);
      if (!sameValue(order, want)) {
        out.push({
          rule: "R3.1",
          message: `${future.label}: callbacks ran as ${show(order)}, not once each in order ${show(want)}`,
        });
      }
      for (const call of mine) {
        const cb = future.callbacks[call.callback];
        if (cb === undefined) continue;
        const phase = `add f${future.index}.${call.callback}`;
        if (cb.addedWhenDone && call.phase !== phase) {
          out.push({
            rule: "R3.2",
            message:
              `${future.label}: callback ${call.callback} added when done did not run at once (ran in "${call.phase}")`,
          });
        }
        if (!cb.addedWhenDone && call.phase === phase) {
          out.push({
            rule: "R3.1",
            message: `${future.label}: callback ${call.callback} ran inside addDoneCallback before the future was done`,
          });
        }
        if (!call.sawDone || !call.sawItself) {
          out.push({
            rule: "R3.1",
            message: `${future.label}: callback ${call.callback} saw done()=${call.sawDone}, itself=${call.sawItself}`,
          });
        }
        if (call.thrown !== undefined) logged.push(`${callbackLogMessage(future.id, future.outcome)} ${call.thrown}`);
      }
      if (future.cancelled && future.mark !== undefined && ran.has(future.mark)) {
        out.push({ rule: "R4.2", message: `${future.label} was cancelled, yet its task ran` });
      }
    }
    // R3.3: each callback error logged once, in the order the callbacks ran, and nothing else in that form.
    const throwing = calls.filter((c) => c.thrown !== undefined).map((c) => c.thrown);
    const expectedLogs = calls.filter((c) => c.thrown !== undefined).map((c) => {
      const future = this.futures[c.future];
      return future.outcome === undefined
        ? `? ${c.thrown}`
        : `${callbackLogMessage(future.id, future.outcome)} ${c.thrown}`;
    });
    const seenLogs = logs.map((l) => `${l.message} ${l.error}`);
    if (!sameValue(seenLogs, expectedLogs)) {
      out.push({
        rule: "R3.3",
        message: `the logger got ${show(seenLogs)}; callbacks threw ${show(throwing)}, so it should get ${
          show(expectedLogs)
        }`,
      });
    }
    for (const map of this.maps) {
      if (map.bound === undefined) continue;
      const late = map.marks.slice(map.bound.firstUnconsumed).filter((m) => ran.has(m)).length;
      if (late > map.bound.max) {
        out.push({
          rule: "R5.3",
          message:
            `map #${map.index}: ${late} items after the consumer stopped at item ${map.bound.firstUnconsumed} still ran; ` +
            `with one worker at most ${map.bound.max} (the dispatch window) may`,
        });
      }
    }
    return out;
  }
}

function showExpect(expect: ThrownExpect): string {
  return expect.isError
    ? `${expect.name}${expect.message === undefined ? "" : ` ${JSON.stringify(expect.message)}`}`
    : show(expect.value);
}

function outcomeSame(a: Outcome, b: Outcome): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "returned" && b.kind === "returned") return sameValue(a.value, b.value);
  if (a.kind === "raised" && b.kind === "raised") return sameValue(a.thrown, b.thrown);
  return true;
}

const RANK: Record<ObservedState, number> = { pending: 0, running: 1, finished: 2, cancelled: 2 };

/** R4.1: PENDING → RUNNING → FINISHED, PENDING → CANCELLED (a broken pool may fail a pending future directly). */
export function illegalTransition(from: ObservedState, to: ObservedState): string | undefined {
  if (from === to) return undefined;
  if (RANK[to] < RANK[from]) return `went back from ${from} to ${to}`;
  if (from === "finished" || from === "cancelled") return `left its final state ${from} for ${to}`;
  if (to === "cancelled" && from === "running") return "went from running to cancelled";
  return undefined;
}

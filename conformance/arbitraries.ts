// fast-check arbitraries for pool scenarios: values, thrown values, task specs, initializers, pool options and the
// command mix. Each rule group (R1 … R8) weighs the same ingredients differently, so that its property spends
// its runs where its rules are at stake, while every run still checks every rule.

import fc from "fast-check";
import { AddCallbacksCommand } from "./commands/add_callbacks.ts";
import { AsCompletedCommand } from "./commands/as_completed.ts";
import { AwaitCommand } from "./commands/await_future.ts";
import { CancelCommand } from "./commands/cancel.ts";
import { MapCommand } from "./commands/map.ts";
import { OpenGateCommand } from "./commands/open_gate.ts";
import { PauseCommand } from "./commands/pause.ts";
import { ResultTimeoutCommand } from "./commands/result_timeout.ts";
import { ShutdownCommand } from "./commands/shutdown.ts";
import { SubmitCommand } from "./commands/submit.ts";
import { SubmitBatchCommand } from "./commands/submit_batch.ts";
import { WaitCommand } from "./commands/wait.ts";
import type { PoolCommand } from "./commands/_step.ts";
import { commandsPath } from "./_config.ts";
import { workersAreProcesses } from "./properties/harness.ts";
import type {
  CallbackSpec,
  ErrorClass,
  InitSpec,
  MapSpec,
  PoolSpec,
  ReturnWhen,
  TaskCall,
  TaskSpec,
  ThrownSpec,
  UnknownTarget,
  UnsendableKind,
} from "./model.ts";

/** The rule groups, one property each. */
export type RuleGroup = "R1" | "R2" | "R3" | "R4" | "R5" | "R6" | "R7" | "R8";

/** True `pct` percent of the time; shrinks towards false. */
function percent(pct: number): fc.Arbitrary<boolean> {
  return fc.integer({ min: 0, max: 99 }).map((n) => n >= 100 - pct);
}

// ------------------------------------------------------------------------------------------------ values (R10.1)

const keyArb = fc.constantFrom("a", "b", "key", "with space", "0", "ü");

/** Leaves: numbers (-0, NaN, ±Infinity), strings, booleans, null, undefined, bigints, dates, regexps, bytes. */
export const leafArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double(),
  fc.constantFrom(-0, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 2 ** 53 + 2, -1e21),
  fc.string({ maxLength: 8 }),
  fc.string({ maxLength: 4, unit: "binary" }),
  fc.constantFrom("", "ü", "😀", "\u0000", "line\nbreak", "\ud800", "a\udc00b"),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }),
  fc.date(),
  fc.constantFrom("a+b", "^x$", "\\d{2}").chain((source) =>
    fc.constantFrom("", "g", "im", "u").map((flags) => new RegExp(source, flags))
  ),
  fc.uint8Array({ maxLength: 4 }),
  fc.float64Array({ maxLength: 3 }),
  fc.int32Array({ maxLength: 3 }),
  fc.bigInt64Array({ maxLength: 2 }),
);

/** Values the transport must carry unchanged: leaves nested in arrays (with holes), objects, Maps, Sets, cycles. */
export const valueArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 2 },
    { arbitrary: leafArb, weight: 6 },
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(keyArb, tie("value"), { maxKeys: 3, noNullPrototype: true }),
    fc.map(leafArb, tie("value"), { maxKeys: 2 }),
    fc.set(leafArb, { maxLength: 3 }),
    fc.sparseArray(tie("value"), { maxLength: 4 }),
    tie("value").map((inner) => {
      const cyclic: Record<string, unknown> = { inner };
      cyclic.self = cyclic;
      return cyclic;
    }),
  ),
})).value;

// ------------------------------------------------------------------------------------------------ thrown values (R2)

const messageArb = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("", "boom", "two\nlines", "ünïcödé"));
const classArb = fc.constantFrom<ErrorClass>(
  "Error",
  "TypeError",
  "RangeError",
  "SyntaxError",
  "ReferenceError",
  "EvalError",
  "URIError",
  "AggregateError",
  "PbError",
  "PbError",
  "HiddenError",
);
const propsArb = fc.dictionary(
  fc.constantFrom("code", "errno", "detail", "status", "path"),
  fc.oneof(leafArb, valueArb),
  {
    maxKeys: 3,
    noNullPrototype: true,
  },
);
/** Thrown non-Errors: falsy ones (R2.5: failure is a flag, not the truthiness of the error) and others. */
const nonErrorArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, 0, "", false, NaN, -0),
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.dictionary(keyArb, leafArb, { maxKeys: 2, noNullPrototype: true }),
);

const plainErrorArb: fc.Arbitrary<ThrownSpec> = fc.record({ cls: classArb, message: messageArb, props: propsArb }).map((
  { cls, message, props },
): ThrownSpec => ({ kind: "error", cls, message, props, ...(cls === "AggregateError" ? { errors: [] } : {}) }));

/** What a task (or initializer) throws: built-in, custom exported, unexported, AggregateError, non-Errors. */
export const thrownArb: fc.Arbitrary<ThrownSpec> = fc.letrec<{ thrown: ThrownSpec }>((tie) => ({
  // The first option has no recursion: fast-check falls back to it once the depth is reached.
  thrown: fc.oneof(
    { depthSize: "small", maxDepth: 2 },
    { arbitrary: plainErrorArb, weight: 3 },
    { arbitrary: nonErrorArb.map((value): ThrownSpec => ({ kind: "value", value })), weight: 1 },
    {
      arbitrary: fc.record({
        cls: classArb,
        message: messageArb,
        props: propsArb,
        cause: fc.option(tie("thrown"), { nil: undefined, freq: 2 }),
        errors: fc.array(tie("thrown"), { maxLength: 3 }),
      }).map(({ cls, message, props, cause, errors }): ThrownSpec => ({
        kind: "error",
        cls,
        message,
        props,
        ...(cause === undefined ? {} : { cause }),
        ...(cls === "AggregateError" ? { errors } : {}),
      })),
      weight: 3,
    },
  ),
})).thrown;

// ------------------------------------------------------------------------------------------------ tasks

/** How often each kind of task is drawn. */
export interface TaskWeights {
  readonly returns: number;
  readonly throws: number;
  readonly unsendable: number;
  readonly crash: number;
}

const msArb = fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, fc.constantFrom(2, 10, 25, 50));

/** A task spec; `kill` only where workers are processes (a thread cannot be killed without its parent). */
export function taskSpecArb(
  weights: TaskWeights,
  backend: string,
  ms: fc.Arbitrary<number> = msArb,
): fc.Arbitrary<TaskSpec> {
  const how = workersAreProcesses(backend)
    ? fc.constantFrom("exit", "exit", "kill", "exitLater" as const)
    : fc.constantFrom("exit", "exit", "exitLater" as const);
  return fc.oneof(
    {
      weight: weights.returns,
      arbitrary: fc.record({ value: valueArb, async: fc.boolean(), ms }).map((r): TaskSpec => ({ do: "return", ...r })),
    },
    {
      weight: weights.throws,
      arbitrary: fc.record({ error: thrownArb, async: fc.boolean(), ms }).map((r): TaskSpec => ({ do: "throw", ...r })),
    },
    {
      weight: weights.unsendable,
      arbitrary: fc.record({
        what: fc.constantFrom("result", "error" as const),
        kind: fc.constantFrom<UnsendableKind>("function", "symbol", "weakmap"),
        async: fc.boolean(),
      }).map((r): TaskSpec => ({ do: "unsendable", ...r })),
    },
    {
      weight: weights.crash,
      arbitrary: fc.record({
        how,
        code: fc.constantFrom(0, 1, 3, 77),
        signal: fc.constantFrom("SIGKILL", "SIGTERM" as const),
        ms: fc.constantFrom(5, 20),
      }).map((r): TaskSpec => ({ do: "crash", ...r })),
    },
  );
}

/** How `submit` is called: by name or function, with a gate; an unknown name; an unsendable argument. */
export function taskCallArb(
  weights: TaskWeights & { readonly unknown: number; readonly unsendableArg: number; readonly gate: number },
  backend: string,
  slowPercent = 0,
): fc.Arbitrary<TaskCall> {
  const ms = slowPercent === 0 ? msArb : percent(slowPercent).chain((slow) => slow ? fc.constantFrom(25, 50) : msArb);
  return fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record({
        via: fc.constantFrom("name", "function" as const),
        spec: taskSpecArb(weights, backend, ms),
        gate: percent(weights.gate),
      }).map((r): TaskCall => ({ ...r, gate: r.gate && (r.spec.do === "return" || r.spec.do === "throw") })),
    },
    {
      weight: weights.unknown,
      arbitrary: fc.constantFrom<UnknownTarget>(
        "noSuchTask",
        "constructor",
        "toString",
        "__proto__",
        "hasOwnProperty",
        "notAFunction",
        "localFunction",
      ).map((target): TaskCall => ({ via: "unknown", target })),
    },
    {
      weight: weights.unsendableArg,
      arbitrary: fc.constantFrom<UnsendableKind>("function", "symbol", "weakmap").map((kind): TaskCall => ({
        via: "unsendableArg",
        kind,
      })),
    },
  );
}

// ------------------------------------------------------------------------------------------------ initializers

/** How often each initializer is drawn. */
export interface InitWeights {
  readonly none: number;
  readonly ok: number;
  readonly throws: number;
  readonly exits: number;
}

/** No initializer, one that succeeds (sync or after a pause), throws or rejects (any value), or exits. */
export function initArb(weights: InitWeights): fc.Arbitrary<InitSpec> {
  return fc.oneof(
    { weight: weights.none, arbitrary: fc.constant<InitSpec>({ kind: "none" }) },
    {
      weight: weights.ok,
      arbitrary: fc.record({ async: fc.boolean(), ms: fc.constantFrom(0, 5, 30) }).map((r): InitSpec => ({
        kind: "ok",
        ...r,
      })),
    },
    {
      weight: weights.throws,
      arbitrary: fc.record({ error: thrownArb, async: fc.boolean() }).map((r): InitSpec => ({ kind: "throw", ...r })),
    },
    { weight: weights.exits, arbitrary: fc.constantFrom(0, 1, 3).map((code): InitSpec => ({ kind: "exit", code })) },
  );
}

// ------------------------------------------------------------------------------------------------ profiles

/** How one rule group's property mixes the ingredients. */
export interface Profile {
  readonly title: string;
  readonly init: InitWeights;
  readonly tasks: TaskWeights & { readonly unknown: number; readonly unsendableArg: number; readonly gate: number };
  readonly maxWorkers: readonly number[];
  /** Percent of pools with `maxTasksPerChild`. */
  readonly maxTasksPerChild: number;
  readonly commands: Readonly<Record<CommandKind, number>>;
  /** Percent of submitted tasks that take 25–50 ms (so that later ones stay pending a while). */
  readonly slowTasks: number;
  /** Percent of map items that are slow (so that R5.3's dispatch window bound applies). */
  readonly slowMapItems: number;
  readonly maxCommands: number;
}

type CommandKind =
  | "submit"
  | "batch"
  | "map"
  | "cancel"
  | "await"
  | "callbacks"
  | "openGate"
  | "resultTimeout"
  | "wait"
  | "asCompleted"
  | "shutdown"
  | "pause";

const healthy: InitWeights = { none: 4, ok: 2, throws: 0, exits: 0 };
const someCrashes: TaskWeights = { returns: 6, throws: 4, unsendable: 1, crash: 0 };
const quiet = {
  submit: 0,
  batch: 0,
  map: 0,
  cancel: 0,
  await: 0,
  callbacks: 0,
  openGate: 0,
  resultTimeout: 0,
  wait: 0,
  asCompleted: 0,
  shutdown: 0,
  pause: 0,
};

/** The eight properties' mixes. */
export const PROFILES: Readonly<Record<RuleGroup, Profile>> = {
  R1: {
    title: "R1.1–R1.5 initializers: run once before any task; one that throws, rejects or exits breaks the pool",
    init: { none: 1, ok: 3, throws: 4, exits: 2 },
    tasks: { ...someCrashes, unknown: 1, unsendableArg: 1, gate: 10 },
    maxWorkers: [1, 2, 3],
    maxTasksPerChild: 20,
    commands: { ...quiet, submit: 5, batch: 2, map: 2, await: 3, cancel: 1, callbacks: 1, pause: 1, shutdown: 1 },
    slowTasks: 0,
    slowMapItems: 20,
    maxCommands: 9,
  },
  R2: {
    title:
      "R2.1–R2.7, R10.1 task errors and values: class, name, message, properties, cause, non-Errors, unsendable values, unknown names",
    init: healthy,
    tasks: { returns: 3, throws: 8, unsendable: 2, crash: 0, unknown: 2, unsendableArg: 1, gate: 0 },
    maxWorkers: [1, 2],
    maxTasksPerChild: 10,
    commands: { ...quiet, submit: 8, await: 3, map: 1, pause: 1 },
    slowTasks: 0,
    slowMapItems: 0,
    maxCommands: 12,
  },
  R3: {
    title: "R3.1–R3.4 done-callbacks: registration order, exactly once, at once when done, errors logged and contained",
    init: { none: 4, ok: 1, throws: 1, exits: 0 },
    tasks: { returns: 6, throws: 3, unsendable: 1, crash: 1, unknown: 1, unsendableArg: 1, gate: 25 },
    maxWorkers: [1, 2],
    maxTasksPerChild: 10,
    commands: { ...quiet, submit: 5, batch: 2, callbacks: 4, cancel: 3, await: 3, openGate: 1, shutdown: 1, pause: 1 },
    slowTasks: 10,
    slowMapItems: 0,
    maxCommands: 12,
  },
  R4: {
    title: "R4.1–R4.4 future states: legal transitions, cancel() exactly when pending, result(ms) timeouts",
    init: healthy,
    tasks: { ...someCrashes, unknown: 1, unsendableArg: 1, gate: 40 },
    maxWorkers: [1, 1, 2, 3],
    maxTasksPerChild: 15,
    commands: {
      ...quiet,
      submit: 4,
      batch: 3,
      cancel: 4,
      resultTimeout: 3,
      openGate: 2,
      await: 2,
      pause: 2,
      callbacks: 1,
    },
    slowTasks: 30,
    slowMapItems: 0,
    maxCommands: 12,
  },
  R5: {
    title:
      "R5.1–R5.6 map/starmap: input order, first error at its position, early stop cancels the rest, chunks, timeouts",
    init: healthy,
    tasks: { returns: 8, throws: 3, unsendable: 1, crash: 0, unknown: 0, unsendableArg: 0, gate: 0 },
    maxWorkers: [1, 1, 1, 2, 4],
    maxTasksPerChild: 10,
    commands: { ...quiet, map: 8, submit: 1, await: 1, shutdown: 1 },
    slowTasks: 0,
    slowMapItems: 70,
    maxCommands: 6,
  },
  R6: {
    title: "R6.1–R6.3 wait/asCompleted: each returnWhen, timeouts, duplicates, cancelled futures count as done",
    init: healthy,
    tasks: { returns: 8, throws: 2, unsendable: 1, crash: 0, unknown: 1, unsendableArg: 1, gate: 40 },
    maxWorkers: [1, 1, 2, 3],
    maxTasksPerChild: 10,
    commands: { ...quiet, submit: 4, batch: 3, wait: 4, asCompleted: 4, cancel: 4, openGate: 2, pause: 1, shutdown: 1 },
    slowTasks: 30,
    slowMapItems: 0,
    maxCommands: 13,
  },
  R7: {
    title: "R7.1–R7.6 shutdown: cancelFutures, wait, repeated calls, maxTasksPerChild, no worker left behind",
    init: healthy,
    tasks: { ...someCrashes, unknown: 0, unsendableArg: 0, gate: 20 },
    maxWorkers: [1, 1, 2, 3, 4],
    maxTasksPerChild: 60,
    commands: { ...quiet, submit: 4, batch: 4, shutdown: 3, map: 1, cancel: 2, await: 1, pause: 1 },
    slowTasks: 40,
    slowMapItems: 30,
    maxCommands: 12,
  },
  R8: {
    title:
      "R8.1–R8.4 worker death: exit, kill and idle exits break the pool promptly; the error says which worker and how",
    init: { none: 4, ok: 1, throws: 0, exits: 1 },
    tasks: { returns: 5, throws: 2, unsendable: 0, crash: 4, unknown: 0, unsendableArg: 0, gate: 25 },
    maxWorkers: [1, 2, 3],
    maxTasksPerChild: 15,
    commands: { ...quiet, submit: 5, batch: 2, map: 1, await: 3, cancel: 1, wait: 1, pause: 2, openGate: 1 },
    slowTasks: 10,
    slowMapItems: 20,
    maxCommands: 10,
  },
};

// ------------------------------------------------------------------------------------------------ scenarios

/** The pool options of a scenario. */
export function poolSpecArb(profile: Profile): fc.Arbitrary<PoolSpec> {
  return fc.record({
    maxWorkers: fc.constantFrom(...profile.maxWorkers),
    maxTasksPerChild: percent(profile.maxTasksPerChild).chain((on) =>
      on ? fc.integer({ min: 1, max: 3 }) : fc.constant(undefined)
    ),
    init: initArb(profile.init),
  }).map(({ maxWorkers, maxTasksPerChild, init }): PoolSpec =>
    maxTasksPerChild === undefined ? { maxWorkers, init } : { maxWorkers, maxTasksPerChild, init }
  );
}

const callbackArb = fc.constantFrom<CallbackSpec>("ok", "ok", "throwsError", "throwsValue");
const callbacksArb = fc.array(callbackArb, { maxLength: 3 });
const targetArb = fc.nat({ max: 11 });

/** One map/starmap call: items, chunk size, timeout (gates only with one), a consumer that may stop early. */
export function mapSpecArb(profile: Profile, backend: string): fc.Arbitrary<MapSpec> {
  const slowMs = percent(profile.slowMapItems).chain((slow) => slow ? fc.constantFrom(10, 15, 20) : msArb);
  const item = fc.record({
    spec: taskSpecArb(profile.tasks, backend, slowMs),
    gate: percent(8),
  });
  return fc.record({
    star: fc.boolean(),
    items: fc.array(item, { maxLength: 8 }),
    chunksize: fc.constantFrom(1, 1, 2, 3),
    timeout: fc.option(fc.constantFrom(5, 20, 30_000), { nil: undefined, freq: 3 }),
    stop: fc.option(fc.nat({ max: 8 }), { nil: undefined }),
  }).map(({ star, items, chunksize, timeout, stop }): MapSpec => ({
    star,
    items: items.map((i) => ({
      spec: i.spec,
      gate: i.gate && timeout !== undefined && timeout < 1_000 && gateable(i.spec),
    })),
    chunksize,
    ...(timeout === undefined ? {} : { timeout }),
    ...(stop === undefined || stop >= items.length ? {} : { stopAfter: stop }),
  }));
}

function gateable(spec: TaskSpec): boolean {
  return spec.do === "return" || spec.do === "throw";
}

/** The command mix of a profile. */
export function commandArb(profile: Profile, backend: string): fc.Arbitrary<PoolCommand> {
  const w = profile.commands;
  const returnWhen = fc.constantFrom<ReturnWhen>("FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED");
  const waitTimeout = fc.option(fc.constantFrom(0, 5, 20), { nil: undefined, freq: 2 });
  const options: fc.WeightedArbitrary<PoolCommand>[] = [
    {
      weight: w.submit,
      arbitrary: fc.tuple(taskCallArb(profile.tasks, backend, profile.slowTasks), callbacksArb).map(([call, cbs]) =>
        new SubmitCommand(call, cbs)
      ),
    },
    {
      weight: w.batch,
      arbitrary: fc.array(
        fc.record({
          call: taskCallArb(profile.tasks, backend, profile.slowTasks),
          callbacks: fc.array(callbackArb, { maxLength: 2 }),
        }),
        { minLength: 2, maxLength: 5 },
      ).map((calls) => new SubmitBatchCommand(calls)),
    },
    { weight: w.map, arbitrary: mapSpecArb(profile, backend).map((spec) => new MapCommand(spec)) },
    {
      weight: w.cancel,
      arbitrary: fc.tuple(targetArb, fc.boolean()).map(([t, pending]) => new CancelCommand(t, pending)),
    },
    {
      weight: w.await,
      arbitrary: fc.tuple(targetArb, fc.array(callbackArb, { maxLength: 2 })).map(([t, cbs]) =>
        new AwaitCommand(t, cbs)
      ),
    },
    {
      weight: w.callbacks,
      arbitrary: fc.tuple(targetArb, fc.array(callbackArb, { minLength: 1, maxLength: 3 })).map(([t, cbs]) =>
        new AddCallbacksCommand(t, cbs)
      ),
    },
    { weight: w.openGate, arbitrary: targetArb.map((t) => new OpenGateCommand(t)) },
    {
      weight: w.resultTimeout,
      arbitrary: fc.tuple(targetArb, fc.constantFrom(0, 5, 15), fc.constantFrom("result", "exception" as const)).map(
        ([t, ms, via]) => new ResultTimeoutCommand(t, ms, via),
      ),
    },
    {
      weight: w.wait,
      arbitrary: fc.tuple(fc.array(targetArb, { minLength: 1, maxLength: 4 }), returnWhen, waitTimeout, fc.boolean())
        .map(([ts, rw, timeout, withCancelled]) => new WaitCommand(ts, rw, timeout, withCancelled)),
    },
    {
      weight: w.asCompleted,
      arbitrary: fc.tuple(fc.array(targetArb, { minLength: 1, maxLength: 4 }), waitTimeout).map(([ts, timeout]) =>
        new AsCompletedCommand(ts, timeout)
      ),
    },
    {
      weight: w.shutdown,
      arbitrary: fc.tuple(fc.boolean(), fc.boolean()).map(([cancelFutures, wait]) =>
        new ShutdownCommand(cancelFutures, wait)
      ),
    },
    { weight: w.pause, arbitrary: fc.constantFrom(1, 10, 30).map((ms) => new PauseCommand(ms)) },
  ];
  return fc.oneof(...options.filter((o) => o.weight > 0));
}

/**
 * R5's opening move: on a fresh pool, a map of slow items that the consumer stops early, or whose first item
 * times out at its gate. Nothing quick ran before, so the dispatch window is small (R4.1), and with one worker
 * the model can bound how many items may still run after the stop (R5.3).
 */
export function leadingMapArb(backend: string): fc.Arbitrary<MapCommand> {
  const slow = taskSpecArb({ returns: 6, throws: 1, unsendable: 0, crash: 0 }, backend, fc.constantFrom(10, 15, 20));
  return fc.record({
    star: fc.boolean(),
    items: fc.array(slow, { minLength: 5, maxLength: 10 }),
    chunksize: fc.constantFrom(1, 1, 1, 2),
    gatedFirst: percent(35),
    stop: fc.nat({ max: 3 }),
  }).map(({ star, items, chunksize, gatedFirst, stop }) =>
    new MapCommand(
      gatedFirst
        ? { star, items: items.map((spec, i) => ({ spec, gate: i === 0 && gateable(spec) })), chunksize, timeout: 5 }
        : { star, items: items.map((spec) => ({ spec, gate: false })), chunksize, stopAfter: stop },
    )
  );
}

/**
 * R3, R4, R6 and R7's opening move: as many gated tasks as the pool has workers, then more tasks. On a fresh pool
 * each worker holds one gated task and about one more (R4.1), so the rest stay pending until a gate opens —
 * futures that `cancel`, `wait`, `asCompleted` and `shutdown({ cancelFutures })` can act on while pending.
 */
export function blockingBurstArb(
  profile: Profile,
  backend: string,
  maxWorkers: number,
): fc.Arbitrary<SubmitBatchCommand> {
  const gated = fc.record({
    call: fc.record({ value: valueArb, async: fc.boolean() }).map(({ value, async }): TaskCall => ({
      via: "name",
      spec: { do: "return", value, async, ms: 0 },
      gate: true,
    })),
    callbacks: fc.array(callbackArb, { maxLength: 2 }),
  });
  const rest = fc.record({
    call: taskCallArb({ ...profile.tasks, crash: 0 }, backend, profile.slowTasks),
    callbacks: fc.array(callbackArb, { maxLength: 2 }),
  });
  return fc.tuple(
    fc.array(gated, { minLength: maxWorkers, maxLength: maxWorkers }),
    fc.array(rest, { minLength: 2, maxLength: 5 }),
  )
    .map(([first, then]) => new SubmitBatchCommand([...first, ...then]));
}

/** A scenario: pool options, an optional first step, then the generated steps. */
export type Scenario = [PoolSpec, PoolCommand | undefined, Iterable<PoolCommand>];

const OPENS_WITH_A_BURST: readonly RuleGroup[] = ["R3", "R4", "R6", "R7"];

/** A whole scenario for one rule group. */
export function scenarioArb(group: RuleGroup, backend: string): fc.Arbitrary<Scenario> {
  const profile = PROFILES[group];
  return poolSpecArb(profile).chain((pool) => {
    const lead: fc.Arbitrary<PoolCommand | undefined> = group === "R5"
      ? fc.option(leadingMapArb(backend), { nil: undefined, freq: 3 })
      : OPENS_WITH_A_BURST.includes(group)
      ? fc.option(blockingBurstArb(profile, backend, pool.maxWorkers), { nil: undefined, freq: group === "R6" ? 8 : 4 })
      : fc.constant(undefined);
    return fc.tuple(
      fc.constant(pool),
      lead,
      fc.commands([commandArb(profile, backend)], { maxCommands: profile.maxCommands, replayPath: commandsPath }),
    );
  });
}

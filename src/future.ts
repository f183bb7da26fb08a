// Future: the five-state machine of concurrent.futures, its done-callbacks, result()/exception() and repr.

import { checkTimeout, startTimer } from "./_clock.ts";
import { type Deferred, deferred } from "./_deferred.ts";
import { CancelledError, InvalidStateError, RuntimeError, TimeoutError } from "./errors.ts";
import { log } from "./logger.ts";

/** The states of a future, with CPython's names. */
export type FutureState = "PENDING" | "RUNNING" | "CANCELLED" | "CANCELLED_AND_NOTIFIED" | "FINISHED";

/** A function given to {@linkcode Future.addDoneCallback}; it receives the future. */
export type DoneCallback<T> = (future: Future<T>) => void;

let nextId = 1;
let observe: <T>(future: Future<T>, fn: () => void) => () => void;
let failed: <T>(future: Future<T>) => boolean;

/**
 * The eventual outcome of a task: Python's `concurrent.futures.Future`, with `result()` and `exception()` as
 * promises (JavaScript cannot block) and timeouts in milliseconds.
 *
 * States: PENDING → RUNNING → FINISHED, or PENDING → CANCELLED (→ CANCELLED_AND_NOTIFIED). A future is also a
 * thenable, so `await future` is `await future.result()`.
 *
 * Like Python's `Future`; differences: `result()`/`exception()` return promises, a failure is tracked by a flag
 * (so `throw undefined` is a failure too), and the repr shows `#ID` instead of a memory address.
 *
 * @typeParam T The type of the result.
 *
 * @example Completing a future by hand
 * ```ts
 * import { Future } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * const future = new Future<number>();
 * const order: string[] = [];
 * future.addDoneCallback((f) => order.push(`first ${f.done()}`));
 * future.addDoneCallback(() => order.push("second"));
 * future.setResult(42);
 * assert.deepEqual(order, ["first true", "second"]);
 * assert.equal(await future, 42);
 * assert.equal(await future.exception(), undefined);
 * ```
 */
export class Future<T = unknown> implements PromiseLike<T> {
  readonly #id: number = nextId++;
  #state: FutureState = "PENDING";
  #value: T | undefined;
  #error: unknown;
  #failed = false;
  // Typed without T, so that Future<T> stays covariant: a Future<number> is a Future<unknown>.
  #callbacks: ((future: never) => void)[] | undefined;
  // Woken at completion, before the callbacks: wait(), asCompleted() and timed result()/exception() calls. Each
  // removes its own entry when it stops waiting, so that nothing outlives the wait.
  #observers: Set<() => void> | undefined;
  #settled: Deferred<void> | undefined;
  #outcomes: Deferred<unknown> | undefined;

  static {
    observe = (future, fn) => {
      (future.#observers ??= new Set()).add(fn);
      return () => future.#observers?.delete(fn);
    };
    failed = (future) => future.#failed;
  }

  /** The state, with CPython's name. Informational; the predicates below are the API. */
  get state(): FutureState {
    return this.#state;
  }

  /**
   * Cancels the future if it has not started: returns `true` (and runs the done-callbacks) for a pending future,
   * `true` again for one already cancelled, `false` for one running or finished.
   */
  cancel(): boolean {
    if (this.#state === "RUNNING" || this.#state === "FINISHED") return false;
    if (this.#state === "CANCELLED" || this.#state === "CANCELLED_AND_NOTIFIED") return true;
    this.#state = "CANCELLED";
    this.#complete();
    return true;
  }

  /** Whether the future was cancelled. */
  cancelled(): boolean {
    return this.#state === "CANCELLED" || this.#state === "CANCELLED_AND_NOTIFIED";
  }

  /** Whether the task is running (in a pool: handed to a worker, also while it waits in the worker's queue). */
  running(): boolean {
    return this.#state === "RUNNING";
  }

  /** Whether the future finished or was cancelled. */
  done(): boolean {
    return this.#state === "FINISHED" || this.cancelled();
  }

  /**
   * Waits for the outcome: resolves with the result, or rejects with the task's error (the very value it threw),
   * with {@linkcode CancelledError} if cancelled, or with {@linkcode TimeoutError} if not done within
   * `timeoutMs` (the future itself is unaffected by the timeout).
   *
   * @param timeoutMs Milliseconds to wait; `undefined` or `Infinity` waits forever, 0 or less checks once.
   * @throws {RangeError} (as a rejection) if `timeoutMs` is NaN.
   * @throws {TypeError} (as a rejection) if `timeoutMs` is neither a number nor `undefined`.
   */
  result(timeoutMs?: number): Promise<T> {
    if (this.#state === "FINISHED" && (timeoutMs === undefined || typeof timeoutMs === "number")) {
      // Already finished: settle at once (a timeout cannot matter, only a NaN one is an error).
      if (!Number.isNaN(timeoutMs)) {
        return this.#failed ? Promise.reject(this.#error) : Promise.resolve(this.#value as T);
      }
    }
    // The common case, waiting without a timeout: one promise that #complete settles with the outcome itself.
    if (timeoutMs === undefined && !this.done()) return (this.#outcomes ??= deferred()).promise as Promise<T>;
    return this.#wait(timeoutMs).then(() => this.#outcome());
  }

  /**
   * Waits like {@linkcode Future.result}, but resolves with the task's error instead of rejecting with it, and
   * with `undefined` when the task succeeded.
   */
  exception(timeoutMs?: number): Promise<unknown> {
    return this.#wait(timeoutMs).then(() => {
      if (this.cancelled()) throw new CancelledError();
      return this.#failed ? this.#error : undefined;
    });
  }

  /**
   * Registers `fn` to run with this future when it is done (finished, failed or cancelled). Callbacks run in
   * registration order, once each; on a future already done `fn` runs at once, before this call returns. A
   * callback that throws is reported through the logger (see `setLogger`) and changes nothing else.
   *
   * @throws {TypeError} if `fn` is not a function.
   */
  addDoneCallback(fn: DoneCallback<T>): void {
    if (typeof fn !== "function") {
      throw new TypeError(`Cannot add a done-callback: fn must be a function, got ${typeName(fn)}`);
    }
    if (this.done()) this.#invoke(fn);
    else (this.#callbacks ??= []).push(fn as (future: never) => void);
  }

  /**
   * Marks the future running, for executor authors: PENDING → RUNNING returns `true`; CANCELLED →
   * CANCELLED_AND_NOTIFIED returns `false`; any other state is a bug and throws `RuntimeError`.
   */
  setRunningOrNotifyCancel(): boolean {
    if (this.#state === "PENDING") {
      this.#state = "RUNNING";
      return true;
    }
    if (this.#state === "CANCELLED") {
      this.#state = "CANCELLED_AND_NOTIFIED";
      return false;
    }
    log(`Future ${this.#id} in unexpected state: ${this.#state}`, undefined);
    throw new RuntimeError("Future in unexpected state");
  }

  /** Completes the future with a value, for executor authors; throws {@linkcode InvalidStateError} when done. */
  setResult(value: T): void {
    this.#checkNotDone();
    this.#value = value;
    this.#state = "FINISHED";
    this.#complete();
  }

  /** Completes the future with an error (any value), for executor authors; throws when already done. */
  setException(error: unknown): void {
    this.#checkNotDone();
    this.#error = error;
    this.#failed = true;
    this.#state = "FINISHED";
    this.#complete();
  }

  /**
   * Makes `await future` wait for {@linkcode Future.result}. The rejection reason is typed `any`, as on a Promise,
   * so that a handler may declare the error type it expects.
   */
  then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    // deno-lint-ignore no-explicit-any
    onRejected?: ((reason: any) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.result().then(onFulfilled, onRejected);
  }

  /** Like `Promise.prototype.catch`, on {@linkcode Future.result}. */
  // deno-lint-ignore no-explicit-any
  catch<B = never>(onRejected?: ((reason: any) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.result().catch(onRejected);
  }

  /** Like `Promise.prototype.finally`, on {@linkcode Future.result}. */
  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.result().finally(onFinally);
  }

  /** CPython's repr, with `#ID` for the address: `<Future at #3 state=finished returned number>`. */
  toString(): string {
    let description: string;
    switch (this.#state) {
      case "PENDING":
        description = "pending";
        break;
      case "RUNNING":
        description = "running";
        break;
      case "CANCELLED":
      case "CANCELLED_AND_NOTIFIED":
        description = "cancelled";
        break;
      case "FINISHED":
        description = this.#failed
          ? `finished raised ${errorTypeName(this.#error)}`
          : `finished returned ${typeName(this.#value)}`;
    }
    return `<Future at #${this.#id} state=${description}>`;
  }

  /** Node's and Bun's `util.inspect` show the repr. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** Deno's `console.log` shows the repr. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  #checkNotDone(): void {
    if (this.done()) throw new InvalidStateError(`${this.#state}: ${this}`);
  }

  #outcome(): T {
    if (this.cancelled()) throw new CancelledError();
    if (this.#failed) throw this.#error;
    return this.#value as T;
  }

  #wait(timeoutMs: number | undefined): Promise<void> {
    let ms: number | undefined;
    try {
      ms = checkTimeout(timeoutMs, "timeoutMs");
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.done()) return Promise.resolve();
    if (ms === undefined) return (this.#settled ??= deferred()).promise;
    if (ms === 0) return Promise.reject(new TimeoutError());
    // Not a reaction on #settled: a reaction cannot be detached, so every timed-out poll of a future that stays
    // pending would keep its closures (and its rejected promise) alive until the future settles. An observer
    // entry is removed when its timer fires, so a timed-out wait leaves nothing behind.
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        stop();
        resolve();
      };
      (this.#observers ??= new Set()).add(wake);
      const stop = startTimer(() => {
        this.#observers?.delete(wake);
        reject(new TimeoutError());
      }, ms);
    });
  }

  // The state is set; now wake waiters (result(), wait(), asCompleted()), then run the callbacks (CPython order).
  #complete(): void {
    this.#settled?.resolve();
    const outcomes = this.#outcomes;
    if (outcomes !== undefined) {
      this.#outcomes = undefined;
      if (this.cancelled()) outcomes.reject(new CancelledError());
      else if (this.#failed) outcomes.reject(this.#error);
      else outcomes.resolve(this.#value);
    }
    const observers = this.#observers;
    this.#observers = undefined;
    if (observers) { for (const fn of observers) fn(); }
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    if (callbacks) { for (const fn of callbacks) this.#invoke(fn as DoneCallback<T>); }
  }

  #invoke(fn: DoneCallback<T>): void {
    try {
      fn(this);
    } catch (error) {
      log(`exception calling callback for ${this}`, error);
    }
  }
}

/**
 * Calls `fn` once when `future` is done, before its done-callbacks, and returns a function that unregisters it.
 * For `wait()` and `asCompleted()`; not part of the public API.
 */
export function onDone<T>(future: Future<T>, fn: () => void): () => void {
  return observe(future, fn);
}

/** Whether `future` finished with an error (any thrown value, `undefined` included). Not public API. */
export function hasFailed<T>(future: Future<T>): boolean {
  return failed(future);
}

/** The repr's TYPE: `typeof` for primitives, `null`, else the constructor's name. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object" && typeof value !== "function") return typeof value;
  const ctor = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor;
  return typeof ctor?.name === "string" && ctor.name !== "" ? ctor.name : "Object";
}

/** The repr's NAME: an error's `name`, or the TYPE rule for a thrown non-Error. */
export function errorTypeName(error: unknown): string {
  if (error instanceof Error) return error.name;
  return typeName(error);
}

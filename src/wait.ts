// wait() and asCompleted(): waiting on several futures at once, as concurrent.futures does.

import { onAbort } from "./_abort.ts";
import { checkSignal } from "./_checks.ts";
import { checkTimeout, now, startTimer, type StopTimer } from "./_clock.ts";
import { type Deferred, deferred } from "./_deferred.ts";
import { TimeoutError } from "./errors.ts";
import { Future, hasFailed, onDone, typeName } from "./future.ts";

/** `wait()` returns when any future finishes or is cancelled. */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/** `wait()` returns when any future finishes by raising (cancelled ones do not count), or when all are done. */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/** `wait()` returns when every future is done. */
export const ALL_COMPLETED = "ALL_COMPLETED";

/** The result type of a future type (a union for a union of futures). */
export type ResultOf<F> = F extends Future<infer T> ? T : never;

/** When {@linkcode wait} returns. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/** Options of {@linkcode wait}. */
export interface WaitOptions {
  /**
   * Milliseconds to wait at most; on timeout `wait` resolves with what is done by then (it never rejects).
   * @default {undefined} (wait forever)
   */
  readonly timeout?: number;
  /** The condition to wait for. @default {"ALL_COMPLETED"} */
  readonly returnWhen?: ReturnWhen;
  /**
   * Stops waiting when aborted: `wait` rejects with `signal.reason` (at once if aborted already). The futures are
   * not touched: aborting a wait cancels no task, as a timeout does not.
   * `null` means no signal, as `undefined` does (as in `fetch`'s `RequestInit`).
   * @default {undefined}
   */
  readonly signal?: AbortSignal | null;
}

/** What {@linkcode wait} resolves to: Python's `DoneAndNotDoneFutures`. */
export interface DoneAndNotDone<T> {
  /** The futures that finished or were cancelled by the time `wait` returned. */
  readonly done: Set<Future<T>>;
  /** The others: pending or running. */
  readonly notDone: Set<Future<T>>;
}

/**
 * A future as {@linkcode asCompleted} yields it: the same `Future` object, typed without `then`/`catch`/`finally`,
 * because TypeScript types the variable of `for await` as the awaited value of what is yielded, and a thenable
 * future would be typed as its result. `f as Future<T>` gives the full type back.
 */
export type CompletedFuture<T> = Omit<Future<T>, "then" | "catch" | "finally">;

/** Options of {@linkcode asCompleted}. */
export interface AsCompletedOptions {
  /**
   * Milliseconds, counted from the first `next()`, after which iteration throws `TimeoutError`
   * "N (of M) futures unfinished".
   * @default {undefined} (wait forever)
   */
  readonly timeout?: number;
  /**
   * Stops the iteration when aborted: the `next()` waiting (else the next one) throws `signal.reason`, even if
   * some futures are done and not yet yielded; then it is done. A signal aborted already makes `asCompleted`
   * throw at the call. The futures are not touched.
   * `null` means no signal, as `undefined` does (as in `fetch`'s `RequestInit`).
   * @default {undefined}
   */
  readonly signal?: AbortSignal | null;
}

function uniqueFutures<T>(fs: Iterable<Future<T>>, caller: string): Set<Future<T>> {
  if (fs === null || fs === undefined || typeof (fs as Iterable<Future<T>>)[Symbol.iterator] !== "function") {
    throw new TypeError(`Cannot ${caller}: fs must be an iterable of futures`);
  }
  const unique = new Set<Future<T>>();
  for (const f of fs) {
    // typeName, not String(f): a null-prototype object has no way to become a string.
    if (!(f instanceof Future)) throw new TypeError(`Cannot ${caller}: fs must hold only futures, got ${typeName(f)}`);
    unique.add(f);
  }
  return unique;
}

// Options are an object or left out; the checks name the parameter, as the other argument checks do (R9).
function checkOptions(options: unknown, caller: string): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot ${caller}: options must be an object, got ${typeName(options)}`);
  }
}

function checkReturnWhen(returnWhen: unknown): ReturnWhen {
  if (returnWhen === FIRST_COMPLETED || returnWhen === FIRST_EXCEPTION || returnWhen === ALL_COMPLETED) {
    return returnWhen;
  }
  // CPython's words first ("Invalid return condition: …"), then which parameter and what it accepts. Any value
  // outside the three is the one error, as CPython's ValueError is, whatever its type.
  const got = typeof returnWhen === "string" ? JSON.stringify(returnWhen) : typeName(returnWhen);
  throw new RangeError(
    `Invalid return condition: ${got} (returnWhen must be ${FIRST_COMPLETED}, ${FIRST_EXCEPTION} or ${ALL_COMPLETED})`,
  );
}

/**
 * Waits until futures are done: resolves with the sets of done and not-done futures once `returnWhen` holds or
 * `timeout` passes. Duplicates count once; a cancelled future counts as done.
 *
 * Like Python's `concurrent.futures.wait()`; differences: resolves a promise, and an unknown `returnWhen` is
 * rejected even when every future is already done.
 *
 * @typeParam F The futures' type; futures of different result types may be mixed.
 * @param fs The futures (any iterable).
 * @param options The timeout, the condition, and a signal that stops the wait.
 * @returns The done and not-done sets.
 * @throws {unknown} (as a rejection) `signal.reason`, when the signal aborts before the wait is over.
 * @throws {TypeError} (as a rejection) for a non-iterable `fs` or a non-Future in it, `options` that is not an
 *   object, a `timeout` that is not a number, or a `signal` that is neither an AbortSignal nor `null` (no signal).
 * @throws {RangeError} (as a rejection) for an unknown `returnWhen` (any other value) or a NaN timeout.
 *
 * @example Waiting for the first of two futures
 * ```ts
 * import { FIRST_COMPLETED, Future, wait } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * const fast = new Future<string>();
 * const slow = new Future<string>();
 * setTimeout(() => fast.setResult("fast"), 10);
 * const { done, notDone } = await wait([fast, slow], { returnWhen: FIRST_COMPLETED });
 * assert.deepEqual([...done], [fast]);
 * assert.deepEqual([...notDone], [slow]);
 * ```
 *
 * @example Giving up on a wait with an AbortSignal
 * ```ts
 * import { Future, wait } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * const future = new Future<string>();
 * const controller = new AbortController();
 * setTimeout(() => controller.abort(new Error("user gave up")), 10);
 * await assert.rejects(wait([future], { signal: controller.signal }), { message: "user gave up" });
 * assert.equal(future.done(), false); // the wait ended, the future is untouched
 * ```
 */
export async function wait<F extends Future<unknown>>(
  fs: Iterable<F>,
  options: WaitOptions = {},
): Promise<DoneAndNotDone<ResultOf<F>>> {
  type T = ResultOf<F>;
  const futures = uniqueFutures(fs as Iterable<Future<T>>, "wait");
  checkOptions(options, "wait");
  const returnWhen = checkReturnWhen(options.returnWhen ?? ALL_COMPLETED);
  const timeout = checkTimeout(options.timeout);
  const signal = checkSignal(options.signal, "wait");
  signal?.throwIfAborted();
  const holds = () => {
    let allDone = true;
    for (const f of futures) {
      if (!f.done()) allDone = false;
      else if (returnWhen === FIRST_COMPLETED) return true;
      else if (returnWhen === FIRST_EXCEPTION && hasFailed(f)) return true;
    }
    return allDone;
  };
  if (!holds() && timeout !== 0) {
    const woken = deferred<void>();
    const unsubscribe: (() => void)[] = [];
    for (const f of futures) {
      if (f.done()) continue;
      unsubscribe.push(onDone(f, () => {
        if (holds()) woken.resolve();
      }));
    }
    const stop: StopTimer | undefined = timeout === undefined ? undefined : startTimer(woken.resolve, timeout);
    const stopListening = signal === undefined ? undefined : onAbort(signal, () => woken.reject(signal.reason));
    try {
      await woken.promise;
    } finally {
      stop?.();
      stopListening?.();
      for (const off of unsubscribe) off();
    }
  }
  const done = new Set<Future<T>>();
  const notDone = new Set<Future<T>>();
  for (const f of futures) (f.done() ? done : notDone).add(f);
  return { done, notDone };
}

/**
 * Yields each future as it completes: first those already done, then the others in completion order. Each
 * distinct future is yielded once; a cancelled future counts as done.
 *
 * Like Python's `concurrent.futures.as_completed()`; the timeout clock starts at the first `next()`, as there.
 * `next()` calls made before earlier ones settle are answered in call order, each with a future of its own, as
 * an async generator would answer them.
 *
 * @typeParam F The futures' type; futures of different result types may be mixed.
 * @param fs The futures (any iterable).
 * @param options The timeout, and a signal that stops the iteration.
 * @returns An async iterable of the futures themselves (typed as {@linkcode CompletedFuture}).
 * @throws {TypeError} at the call, for a non-iterable `fs` or a non-Future in it, `options` that is not an
 *   object, a `timeout` that is not a number, or a `signal` that is neither an AbortSignal nor `null` (no signal).
 * @throws {RangeError} at the call, for a NaN timeout.
 * @throws {unknown} `signal.reason`: at the call when the signal is aborted already, else from iteration.
 * @throws {TimeoutError} from iteration, "N (of M) futures unfinished", when the timeout passes.
 *
 * @example Handling results as they arrive
 * ```ts
 * import { asCompleted, Future } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * const a = new Future<string>();
 * const b = new Future<string>();
 * b.setResult("b");
 * setTimeout(() => a.setResult("a"), 10);
 * const seen: string[] = [];
 * for await (const f of asCompleted([a, b])) seen.push(await f.result());
 * assert.deepEqual(seen, ["b", "a"]);
 * ```
 */
export function asCompleted<F extends Future<unknown>>(
  fs: Iterable<F>,
  options: AsCompletedOptions = {},
): AsyncIterableIterator<CompletedFuture<ResultOf<F>>> {
  const futures = uniqueFutures(fs as Iterable<Future<ResultOf<F>>>, "iterate asCompleted");
  checkOptions(options, "iterate asCompleted");
  const timeout = checkTimeout(options.timeout);
  const signal = checkSignal(options.signal, "iterate asCompleted");
  signal?.throwIfAborted();
  return new AsCompletedIterator(futures, timeout, signal);
}

// Not an async generator: `yield future` there would await the future (it is a thenable) and yield its result.
// next() calls made before earlier ones settled queue up as on a generator: each future goes to one call, in
// call order; a timeout rejects the call that was waiting and the calls behind it resolve { done: true }. An
// abort does the same at once, whatever is ready; with no call waiting, the next call rejects.
class AsCompletedIterator<T> implements AsyncIterableIterator<Future<T>> {
  readonly #futures: Set<Future<T>>;
  readonly #timeout: number | undefined;
  readonly #signal: AbortSignal | undefined;
  // Listening only while some future is pending: after that no call can wait, and next() reads signal.aborted.
  #stopListening: (() => void) | undefined;
  #abortReason: { error: unknown } | undefined; // thrown by the next call, once
  readonly #total: number;
  #deadline: number | undefined;
  #started = false;
  #finished: Future<T>[] = [];
  readonly #pending = new Set<Future<T>>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #calls: Deferred<IteratorResult<Future<T>, undefined>>[] = []; // not answered yet, in call order
  #stopTimer: StopTimer | undefined;
  #expired = false;
  #closed = false;

  constructor(futures: Set<Future<T>>, timeout: number | undefined, signal: AbortSignal | undefined) {
    this.#futures = futures;
    this.#timeout = timeout;
    this.#signal = signal;
    this.#total = futures.size;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Future<T>> {
    return this;
  }

  next(): Promise<IteratorResult<Future<T>, undefined>> {
    if (this.#signal?.aborted === true) this.#abort(); // a no-op once closed
    if (this.#abortReason !== undefined) {
      const { error } = this.#abortReason;
      this.#abortReason = undefined;
      return Promise.reject(error);
    }
    // Closed before the first call (return(), or an abort): nothing to watch.
    if (!this.#started && !this.#closed) this.#start();
    const call = deferred<IteratorResult<Future<T>, undefined>>();
    this.#calls.push(call);
    this.#answer();
    return call.promise;
  }

  return(): Promise<IteratorResult<Future<T>, undefined>> {
    this.#close();
    return Promise.resolve({ value: undefined, done: true });
  }

  // CPython starts the clock at the first next(), and yields what is already done first.
  #start(): void {
    this.#started = true;
    this.#deadline = this.#timeout === undefined ? undefined : now() + this.#timeout;
    for (const f of this.#futures) {
      if (f.done()) {
        this.#finished.push(f);
        continue;
      }
      this.#pending.add(f);
      this.#unsubscribe.push(onDone(f, () => {
        this.#pending.delete(f);
        this.#finished.push(f);
        if (this.#pending.size === 0) this.#unlisten();
        this.#answer();
      }));
    }
    if (this.#signal !== undefined && this.#pending.size > 0) this.#stopListening = onAbort(this.#signal, this.#abort);
  }

  // The signal aborted: the call waiting rejects with the reason (else the next call will), the rest end.
  readonly #abort = (): void => {
    if (this.#closed) return;
    const reason = this.#signal!.reason;
    const waiting = this.#calls.shift();
    if (waiting !== undefined) waiting.reject(reason);
    else this.#abortReason = { error: reason };
    this.#close();
  };

  #unlisten(): void {
    this.#stopListening?.();
    this.#stopListening = undefined;
  }

  // Answers the queued calls in order with finished futures; then, when every future was yielded, ends the
  // iteration, or when the deadline passed, times out; otherwise leaves the rest waiting, with the timer armed
  // only while some call waits.
  #answer(): void {
    const calls = this.#calls;
    while (calls.length > 0 && !this.#closed) {
      const next = this.#finished.shift();
      if (next !== undefined) {
        calls.shift()!.resolve({ value: next, done: false });
      } else if (this.#pending.size === 0) {
        this.#close();
      } else if (this.#expired || (this.#deadline !== undefined && this.#deadline - now() <= 0)) {
        const message = `${this.#pending.size} (of ${this.#total}) futures unfinished`;
        calls.shift()!.reject(new TimeoutError(message));
        this.#close();
      } else {
        if (this.#deadline !== undefined && this.#stopTimer === undefined) {
          // The timer's own clock may run a little ahead of now(): its firing is the deadline.
          this.#stopTimer = startTimer(() => {
            this.#expired = true;
            this.#answer();
          }, this.#deadline - now());
        }
        return;
      }
    }
    // No call waits now; an armed timer would only keep the event loop alive.
    this.#stopTimer?.();
    this.#stopTimer = undefined;
    if (this.#closed) this.#endCalls();
  }

  #close(): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#unlisten();
      this.#stopTimer?.();
      for (const off of this.#unsubscribe) off();
      this.#unsubscribe.length = 0;
    }
    this.#endCalls();
  }

  // After the end or a timeout, every call still queued resolves { done: true }, as on a finished generator.
  #endCalls(): void {
    for (const call of this.#calls.splice(0)) call.resolve({ value: undefined, done: true });
  }
}

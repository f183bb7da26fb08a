// wait() and asCompleted(): waiting on several futures at once, as concurrent.futures does.

import { checkTimeout, now, startTimer, type StopTimer } from "./_clock.ts";
import { deferred } from "./_deferred.ts";
import { TimeoutError } from "./errors.ts";
import { Future, hasFailed, onDone } from "./future.ts";

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
}

/** What {@linkcode wait} resolves to: Python's `DoneAndNotDoneFutures`. */
export interface DoneAndNotDone<T> {
  readonly done: Set<Future<T>>;
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
}

function uniqueFutures<T>(fs: Iterable<Future<T>>, caller: string): Set<Future<T>> {
  if (fs === null || fs === undefined || typeof (fs as Iterable<Future<T>>)[Symbol.iterator] !== "function") {
    throw new TypeError(`Cannot ${caller}: fs must be an iterable of futures`);
  }
  const unique = new Set<Future<T>>();
  for (const f of fs) {
    if (!(f instanceof Future)) throw new TypeError(`Cannot ${caller}: ${String(f)} is not a Future`);
    unique.add(f);
  }
  return unique;
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
 * @param options The timeout and the condition.
 * @returns The done and not-done sets.
 * @throws {TypeError} (as a rejection) for a non-Future in `fs`.
 * @throws {RangeError} (as a rejection) for an unknown `returnWhen` or a NaN timeout.
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
 */
export async function wait<F extends Future<unknown>>(
  fs: Iterable<F>,
  options: WaitOptions = {},
): Promise<DoneAndNotDone<ResultOf<F>>> {
  type T = ResultOf<F>;
  const futures = uniqueFutures(fs as Iterable<Future<T>>, "wait");
  const returnWhen = options.returnWhen ?? ALL_COMPLETED;
  if (returnWhen !== FIRST_COMPLETED && returnWhen !== FIRST_EXCEPTION && returnWhen !== ALL_COMPLETED) {
    throw new RangeError(`Invalid return condition: ${JSON.stringify(returnWhen)}`);
  }
  const timeout = checkTimeout(options.timeout);
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
    await woken.promise;
    stop?.();
    for (const off of unsubscribe) off();
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
 *
 * @typeParam F The futures' type; futures of different result types may be mixed.
 * @param fs The futures (any iterable).
 * @param options The timeout.
 * @returns An async iterable of the futures themselves (typed as {@linkcode CompletedFuture}).
 * @throws {TypeError} at the call, for a non-Future in `fs`.
 * @throws {RangeError} at the call, for a NaN timeout.
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
  const timeout = checkTimeout(options.timeout);
  return new AsCompletedIterator(futures, timeout);
}

// Not an async generator: `yield future` there would await the future (it is a thenable) and yield its result.
class AsCompletedIterator<T> implements AsyncIterableIterator<Future<T>> {
  readonly #futures: Set<Future<T>>;
  readonly #timeout: number | undefined;
  readonly #total: number;
  #deadline: number | undefined;
  #started = false;
  #finished: Future<T>[] = [];
  readonly #pending = new Set<Future<T>>();
  readonly #unsubscribe: (() => void)[] = [];
  #signal = deferred<void>();
  #closed = false;

  constructor(futures: Set<Future<T>>, timeout: number | undefined) {
    this.#futures = futures;
    this.#timeout = timeout;
    this.#total = futures.size;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Future<T>> {
    return this;
  }

  async next(): Promise<IteratorResult<Future<T>, undefined>> {
    if (!this.#started) this.#start();
    for (;;) {
      if (this.#closed) return { value: undefined, done: true };
      const next = this.#finished.shift();
      if (next !== undefined) return { value: next, done: false };
      if (this.#pending.size === 0) return this.#close();
      const left = this.#deadline === undefined ? undefined : this.#deadline - now();
      if (left !== undefined && left <= 0) this.#timeOut();
      this.#signal = deferred<void>();
      let timedOut = false;
      const stop = left === undefined ? undefined : startTimer(() => {
        timedOut = true;
        this.#signal.resolve();
      }, left);
      await this.#signal.promise;
      stop?.();
      if (timedOut && this.#finished.length === 0) this.#timeOut();
    }
  }

  return(): Promise<IteratorResult<Future<T>, undefined>> {
    return Promise.resolve(this.#close());
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
        this.#signal.resolve();
      }));
    }
  }

  #timeOut(): never {
    const message = `${this.#pending.size} (of ${this.#total}) futures unfinished`;
    this.#close();
    throw new TimeoutError(message);
  }

  #close(): IteratorResult<Future<T>, undefined> {
    this.#closed = true;
    this.#signal.resolve(); // a next() waiting right now ends too
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe.length = 0;
    return { value: undefined, done: true };
  }
}

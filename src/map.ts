// The results side of map() and starmap(): ordered iteration, the deadline, and cancelling the rest.

import { onAbort } from "./_abort.ts";
import { now } from "./_clock.ts";
import { type Deferred, deferred } from "./_deferred.ts";
import { type Future, onDone } from "./future.ts";
import type { ChunkOutcome } from "./protocol.ts";

/** Options of `map()` and `starmap()`. */
export interface MapOptions {
  /**
   * Milliseconds, counted from the `map()` call, within which each item must be ready; the first that is not
   * makes iteration throw `TimeoutError`.
   * @default {undefined} (wait forever)
   */
  readonly timeout?: number;
  /** How many items travel in one message; results and errors stay per item. @default {1} */
  readonly chunksize?: number;
  /**
   * Stops the whole map when aborted: every item still PENDING is cancelled (as when iteration stops early),
   * and the iterator's next `next()` (or the one already waiting) throws `signal.reason`; then it is done.
   * Items RUNNING still finish, as in Python, and their results are not handed out; that includes items that
   * have not started yet but are held RUNNING in the pool's call queue (up to `maxWorkers + 1`, as in CPython),
   * since `cancel()` cannot take those back. A signal aborted already makes the `map()` call itself throw
   * `signal.reason`, and nothing is submitted. The map stops listening once every item is done or the
   * iteration has ended, so one long-lived signal can serve any number of maps.
   * `null` means no signal, as `undefined` does (as in `fetch`'s `RequestInit`).
   * @default {undefined} (only `return()` or a failure stops it)
   */
  readonly signal?: AbortSignal | null;
}

/**
 * What `map()` and `starmap()` return: an async iterable of the results, which `return()` stops early. `next()`
 * calls made before earlier ones settle are answered in call order, each with an item of its own.
 */
export interface MapIterator<T> extends AsyncIterableIterator<T> {
  /** Stops early: every item still PENDING is cancelled (items held RUNNING in the call queue still run). */
  return(): Promise<IteratorResult<T, undefined>>;
}

/**
 * Yields the futures' results in order: each future is one item, or (when `chunked`) a chunk of items. Throws
 * the first failure at its position; on a throw or an early stop (`return()`), cancels every future not yet
 * done. A class rather than an async generator: a chunk's items are then handed out without a generator step
 * each.
 *
 * `next()` calls made before earlier ones settled queue up as on an async generator: each item goes to one call,
 * in call order; after a failure (or a timeout) the failing call rejects and the calls queued behind it resolve
 * `{ done: true }`. `return()` takes effect at once: calls still waiting resolve `{ done: true }`.
 *
 * An abort of `signal` ends the iteration as a failure would, at once, whatever results are ready: it cancels
 * every future not yet done, and the call waiting (else the next call) rejects with `signal.reason`.
 */
export class ResultIterator<T> implements MapIterator<T> {
  readonly #futures: Future<unknown>[];
  readonly #chunked: boolean;
  readonly #deadline: number | undefined;
  readonly #signal: AbortSignal | undefined;
  // Listening only while some future is not done: after that an abort has nothing to cancel and no call waits
  // long, so next() reading signal.aborted is enough, and nothing keeps this iterator (and its results) reachable
  // from a long-lived signal, whether or not anyone iterates it to the end.
  #stopListening: (() => void) | undefined;
  #undone = 0; // futures not done yet, counted while listening
  #next = 0; // the next future to wait for
  #buffer: unknown[] = []; // the current chunk's results not yet yielded
  #buffered = 0;
  #failure: { error: unknown } | undefined; // thrown once the buffer is empty
  #finished = false;
  // The next() calls not answered yet, in call order; the first one waits for #futures[#next]. Empty whenever
  // the buffer can answer at once, so the fast path below needs no promise of its own.
  readonly #calls: Deferred<IteratorResult<T, undefined>>[] = [];

  constructor(
    futures: Future<unknown>[],
    chunked: boolean,
    deadline: number | undefined,
    signal?: AbortSignal,
  ) {
    this.#futures = futures;
    this.#chunked = chunked;
    this.#deadline = deadline;
    this.#signal = signal;
    if (signal === undefined) return;
    for (const future of futures) {
      if (future.done()) continue;
      this.#undone++;
      onDone(future, this.#oneDone);
    }
    if (this.#undone > 0) this.#stopListening = onAbort(signal, this.#abort);
  }

  readonly #oneDone = (): void => {
    if (--this.#undone === 0) this.#unlisten();
  };

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#signal?.aborted === true) this.#abort(); // a no-op once it has ended
    if (this.#calls.length === 0) {
      if (this.#buffered < this.#buffer.length) {
        return Promise.resolve({ value: this.#buffer[this.#buffered++] as T, done: false });
      }
      if (this.#failure !== undefined) {
        const { error } = this.#failure;
        this.#failure = undefined; // thrown once, then done
        this.#stop();
        return Promise.reject(error);
      }
      if (this.#finished || this.#next >= this.#futures.length) {
        this.#stop();
        return Promise.resolve({ value: undefined, done: true });
      }
    }
    // An earlier call still waits for its future (this one queues behind it), or this one must wait itself.
    const call = deferred<IteratorResult<T, undefined>>();
    if (this.#calls.push(call) === 1) this.#awaitNext();
    return call.promise;
  }

  /** Stops early: every future not yet done is cancelled, and calls still waiting resolve `{ done: true }`. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.#stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  // Waits for #futures[#next] on behalf of the first queued call. Only one wait is ever outstanding.
  #awaitNext(): void {
    const future = this.#futures[this.#next];
    const wait = this.#deadline === undefined ? undefined : Math.max(0, this.#deadline - now());
    future.result(wait).then(this.#arrived, this.#failed);
  }

  readonly #arrived = (value: unknown): void => {
    if (this.#finished) return; // return() came first and has answered every call
    this.#next++;
    if (this.#chunked) {
      const chunk = value as ChunkOutcome;
      this.#buffer = chunk.values;
      this.#buffered = 0;
      if (chunk.failed) this.#failure = { error: chunk.error };
    } else {
      this.#calls.shift()!.resolve({ value: value as T, done: false });
    }
    this.#answerQueued();
  };

  readonly #failed = (error: unknown): void => {
    if (this.#finished) return;
    this.#calls.shift()!.reject(error);
    this.#stop();
  };

  // Answers queued calls in order from the buffer, the stored failure or the end, until one must wait again.
  #answerQueued(): void {
    const calls = this.#calls;
    while (calls.length > 0) {
      if (this.#buffered < this.#buffer.length) {
        calls.shift()!.resolve({ value: this.#buffer[this.#buffered++] as T, done: false });
      } else if (this.#failure !== undefined) {
        calls.shift()!.reject(this.#failure.error);
        this.#stop();
      } else if (this.#finished || this.#next >= this.#futures.length) {
        this.#stop();
      } else {
        this.#awaitNext();
        return;
      }
    }
  }

  // The signal aborted: ends the iteration, as a failure does, with signal.reason thrown by the call that waits
  // (else by the next call). Ready results are dropped: an abort asks to stop now.
  readonly #abort = (): void => {
    if (this.#finished) return;
    const waiting = this.#calls.shift();
    const reason = this.#signal!.reason;
    waiting?.reject(reason);
    this.#stop();
    if (waiting === undefined) this.#failure = { error: reason };
  };

  #unlisten(): void {
    this.#stopListening?.();
    this.#stopListening = undefined;
  }

  // Ends the iteration: later calls get { done: true }, and so do the calls still queued (as on a generator that
  // has returned or thrown).
  #stop(): void {
    if (!this.#finished) {
      this.#finished = true;
      this.#unlisten();
      this.#buffer = [];
      this.#buffered = 0;
      this.#failure = undefined;
      for (let i = this.#next; i < this.#futures.length; i++) this.#futures[i].cancel();
    }
    const calls = this.#calls.splice(0);
    for (const call of calls) call.resolve({ value: undefined, done: true });
  }
}

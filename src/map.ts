// The results side of map() and starmap(): ordered iteration, the deadline, and cancelling the rest.

import { now } from "./_clock.ts";
import type { Future } from "./future.ts";
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
}

/** What `map()` and `starmap()` return: an async iterable of the results, which `return()` stops early. */
export interface MapIterator<T> extends AsyncIterableIterator<T> {
  /** Stops early: every item not yet started is cancelled. */
  return(): Promise<IteratorResult<T, undefined>>;
}

/**
 * Yields the futures' results in order: each future is one item, or (when `chunked`) a chunk of items. Throws
 * the first failure at its position; on a throw or an early stop (`return()`), cancels every future not yet
 * done. A class rather than an async generator: a chunk's items are then handed out without a generator step
 * each.
 */
export class ResultIterator<T> implements MapIterator<T> {
  readonly #futures: Future<unknown>[];
  readonly #chunked: boolean;
  readonly #deadline: number | undefined;
  #next = 0; // the next future to wait for
  #buffer: unknown[] = []; // the current chunk's results not yet yielded
  #buffered = 0;
  #failure: { error: unknown } | undefined; // thrown once the buffer is empty
  #finished = false;

  constructor(futures: Future<unknown>[], chunked: boolean, deadline: number | undefined) {
    this.#futures = futures;
    this.#chunked = chunked;
    this.#deadline = deadline;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#buffered < this.#buffer.length) {
      return Promise.resolve({ value: this.#buffer[this.#buffered++] as T, done: false });
    }
    if (this.#failure !== undefined) {
      const { error } = this.#failure;
      this.#stop();
      return Promise.reject(error);
    }
    if (this.#finished || this.#next >= this.#futures.length) {
      this.#stop();
      return Promise.resolve({ value: undefined, done: true });
    }
    const future = this.#futures[this.#next];
    const wait = this.#deadline === undefined ? undefined : Math.max(0, this.#deadline - now());
    return future.result(wait).then(
      (value) => {
        this.#next++;
        if (!this.#chunked) return { value: value as T, done: false };
        const chunk = value as ChunkOutcome;
        this.#buffer = chunk.values;
        this.#buffered = 0;
        if (chunk.failed) this.#failure = { error: chunk.error };
        return this.next();
      },
      (error) => {
        this.#stop();
        throw error;
      },
    );
  }

  /** Stops early: every future not yet done is cancelled. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.#stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  #stop(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#buffer = [];
    this.#failure = undefined;
    for (let i = this.#next; i < this.#futures.length; i++) this.#futures[i].cancel();
  }
}

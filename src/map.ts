// The results side of map() and starmap(): ordered iteration, the deadline, and cancelling the rest.

import { now } from "./_clock.ts";
import type { Future } from "./future.ts";
import { type ItemOutcome, RETURNED } from "./protocol.ts";

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

/**
 * Yields the futures' results in order: each future is one item, or (when `chunked`) a list of item outcomes.
 * Throws the first failure at its position; on a throw or an early stop, cancels every future not yet done.
 */
export async function* iterateResults(
  futures: Future<unknown>[],
  chunked: boolean,
  deadline: number | undefined,
): AsyncGenerator<unknown, void, undefined> {
  let i = 0;
  try {
    for (; i < futures.length; i++) {
      const wait = deadline === undefined ? undefined : Math.max(0, deadline - now());
      const value = await futures[i].result(wait);
      if (!chunked) {
        yield value;
        continue;
      }
      for (const [status, item] of value as ItemOutcome[]) {
        if (status !== RETURNED) throw item;
        yield item;
      }
    }
  } finally {
    for (let j = i; j < futures.length; j++) futures[j].cancel();
  }
}

// Unit tests of map()'s result side (ResultIterator) over futures completed by hand: parallel next() calls.

import "./_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { now } from "./_clock.ts";
import { Future } from "./future.ts";
import { ResultIterator } from "./map.ts";
import type { ChunkOutcome } from "./protocol.ts";
import { CancelledError, TimeoutError } from "./errors.ts";
import { countedAbort, within } from "./_test_utils.ts";

// A future as the pool has it once a worker took it: running, so not cancellable.
function running(): Future<unknown> {
  const f = new Future<unknown>();
  f.setRunningOrNotifyCancel();
  return f;
}

// A chunk's outcome, as the executor hands it to the iterator.
function chunk(values: unknown[], error?: { error: unknown }): ChunkOutcome {
  return error === undefined ? { values, failed: false } : { values, failed: true, error: error.error };
}

type Outcome = { value: unknown; done: boolean | undefined } | { error: unknown };

// Starts `n` next() calls at once, without awaiting any of them, and records the order in which they settle.
function parallelNext(it: ResultIterator<unknown>, n: number): { outcomes: Promise<Outcome[]>; order: number[] } {
  const order: number[] = [];
  const calls: Promise<Outcome>[] = [];
  for (let i = 0; i < n; i++) {
    calls.push(
      it.next().then(
        (r) => {
          order.push(i);
          return { value: r.value, done: r.done };
        },
        (error) => {
          order.push(i);
          return { error };
        },
      ),
    );
  }
  return { outcomes: Promise.all(calls), order };
}

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

const DONE = { value: undefined, done: true };

describe("map() results with parallel next() calls (R5.1–R5.5)", () => {
  it("R5.1 map(): parallel next() calls get each item once, in order (one future per item)", async () => {
    const futures = [running(), running(), running(), running()];
    const it = new ResultIterator(futures, false, undefined);
    const { outcomes, order } = parallelNext(it, 5);
    // Out of order, and across macrotasks, as workers finish.
    futures[2].setResult("c");
    await tick();
    futures[0].setResult("a");
    futures[3].setResult("d");
    await tick();
    futures[1].setResult("b");
    assert.deepEqual(await within(outcomes), [
      { value: "a", done: false },
      { value: "b", done: false },
      { value: "c", done: false },
      { value: "d", done: false },
      DONE,
    ]);
    assert.deepEqual(order, [0, 1, 2, 3, 4], "the calls settle in call order");
    assert.deepEqual(await it.next(), DONE);
  });

  it("R5.5 map(): parallel next() calls get each item once, in order, across chunks", async () => {
    const futures = [running(), running(), running()];
    const it = new ResultIterator(futures, true, undefined);
    const { outcomes, order } = parallelNext(it, 8);
    futures[1].setResult(chunk([4, 5]));
    futures[2].setResult(chunk([6]));
    await tick();
    futures[0].setResult(chunk([1, 2, 3]));
    assert.deepEqual(await within(outcomes), [
      { value: 1, done: false },
      { value: 2, done: false },
      { value: 3, done: false },
      { value: 4, done: false },
      { value: 5, done: false },
      { value: 6, done: false },
      DONE,
      DONE,
    ]);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("R5.5 map(): parallel next() calls made while a chunk is half handed out continue from where it stopped", async () => {
    const futures = [running(), running()];
    futures[0].setResult(chunk(["a", "b", "c"]));
    const it = new ResultIterator(futures, true, undefined);
    assert.deepEqual(await it.next(), { value: "a", done: false });
    const { outcomes } = parallelNext(it, 4);
    futures[1].setResult(chunk(["d"]));
    assert.deepEqual(await within(outcomes), [
      { value: "b", done: false },
      { value: "c", done: false },
      { value: "d", done: false },
      DONE,
    ]);
  });

  it("R5.2 map(): a failure in the middle rejects the call at its position; the calls queued behind it resolve done", async () => {
    const futures = [running(), running(), new Future<unknown>(), new Future<unknown>()];
    const it = new ResultIterator(futures, false, undefined);
    const { outcomes, order } = parallelNext(it, 4);
    const boom = new Error("boom");
    futures[1].setException(boom);
    futures[0].setResult("a");
    assert.deepEqual(await within(outcomes), [{ value: "a", done: false }, { error: boom }, DONE, DONE]);
    assert.deepEqual(order, [0, 1, 2, 3]);
    assert.ok(futures[2].cancelled() && futures[3].cancelled(), "the items not started are cancelled");
    assert.deepEqual(await it.next(), DONE);
  });

  it("R5.5 map(): a failing chunk yields its earlier items, then rejects one call; the calls behind it resolve done", async () => {
    const futures = [running(), new Future<unknown>()];
    const it = new ResultIterator(futures, true, undefined);
    const { outcomes, order } = parallelNext(it, 5);
    const boom = new Error("chunk item failed");
    futures[0].setResult(chunk([1, 2], { error: boom }));
    assert.deepEqual(await within(outcomes), [
      { value: 1, done: false },
      { value: 2, done: false },
      { error: boom },
      DONE,
      DONE,
    ]);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(futures[1].cancelled(), true);
  });

  it("R5.2 map(): a thrown non-Error (undefined) rejects its call with that value, and the calls behind resolve done", async () => {
    const futures = [running(), running()];
    const it = new ResultIterator(futures, false, undefined);
    const { outcomes } = parallelNext(it, 3);
    futures[0].setException(undefined);
    assert.deepEqual(await within(outcomes), [{ error: undefined }, DONE, DONE]);
  });

  it("R5.3 map(): return() while calls are queued resolves them done at once and cancels the items not started", async () => {
    const first = running();
    const rest = [new Future<unknown>(), new Future<unknown>(), new Future<unknown>()];
    const it = new ResultIterator([first, ...rest], false, undefined);
    const { outcomes, order } = parallelNext(it, 3);
    assert.deepEqual(await it.return(), DONE);
    assert.deepEqual(await within(outcomes), [DONE, DONE, DONE], "no call is left waiting on the running item");
    assert.deepEqual(order, [0, 1, 2]);
    assert.ok(rest.every((f) => f.cancelled()), "every item not started is cancelled");
    assert.equal(first.running(), true, "a running item cannot be cancelled");
    first.setResult("late");
    await tick();
    assert.deepEqual(await it.next(), DONE, "a result arriving after return() is not handed out");
  });

  it("R5.3 map(): return() between chunk items ends the iteration; queued and later calls resolve done", async () => {
    const futures = [running(), new Future<unknown>()];
    futures[0].setResult(chunk([1, 2, 3]));
    const it = new ResultIterator(futures, true, undefined);
    assert.deepEqual(await it.next(), { value: 1, done: false });
    assert.deepEqual(await it.return(), DONE);
    assert.deepEqual(await it.next(), DONE);
    assert.equal(futures[1].cancelled(), true);
    await assert.rejects(futures[1].result(), CancelledError);
  });

  it("R5.4 map(): with parallel next() calls, the timeout rejects the waiting call; the calls behind it resolve done", async () => {
    const futures = [running(), running(), new Future<unknown>()];
    futures[0].setResult("a");
    const it = new ResultIterator(futures, false, now() + 40);
    const { outcomes, order } = parallelNext(it, 4);
    const got = await within(outcomes);
    assert.deepEqual(got[0], { value: "a", done: false });
    assert.ok("error" in got[1] && got[1].error instanceof TimeoutError, "the second call times out");
    assert.deepEqual(got.slice(2), [DONE, DONE]);
    assert.deepEqual(order, [0, 1, 2, 3]);
    assert.equal(futures[2].cancelled(), true);
  });

  it("R5.1 map(): each next() awaited in turn still gets the items in order (the fast path)", async () => {
    const futures = [running(), running()];
    futures[0].setResult(chunk([1, 2]));
    futures[1].setResult(chunk([3]));
    const it = new ResultIterator(futures, true, undefined);
    const seen: unknown[] = [];
    for await (const x of it) seen.push(x);
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(await new ResultIterator([], false, undefined).next(), DONE);
  });
});

describe("map() results with an AbortSignal (R5.7)", () => {
  it("R5.7 map({ signal }): an abort cancels the items not started and rejects the waiting next() with signal.reason; the calls behind it resolve done", async () => {
    const first = running();
    const rest = [new Future<unknown>(), new Future<unknown>(), new Future<unknown>()];
    const { controller, signal, listeners } = countedAbort();
    const it = new ResultIterator([first, ...rest], false, undefined, signal);
    assert.equal(listeners(), 1, "one listener while the map is under way");
    const { outcomes, order } = parallelNext(it, 3);
    const reason = new Error("stop");
    controller.abort(reason);
    assert.ok(rest.every((f) => f.cancelled()), "every item not started is cancelled at the abort");
    assert.equal(first.running(), true, "a running item cannot be cancelled");
    assert.deepEqual(await within(outcomes), [{ error: reason }, DONE, DONE]);
    assert.deepEqual(order, [0, 1, 2]);
    first.setResult("late");
    await tick();
    assert.deepEqual(await it.next(), DONE, "a result arriving after the abort is not handed out");
    assert.equal(listeners(), 0);
  });

  it("R5.7 map({ signal }): an abort while no next() waits makes the next call throw signal.reason, once, even with results ready", async () => {
    const futures = [running(), running(), new Future<unknown>()];
    futures[0].setResult(chunk([1, 2, 3]));
    const { controller, signal, listeners } = countedAbort();
    const it = new ResultIterator(futures, true, undefined, signal);
    assert.deepEqual(await it.next(), { value: 1, done: false });
    controller.abort("stop"); // any value: it is thrown as it is
    assert.equal(futures[2].cancelled(), true, "cancelled at the abort, not at the next call");
    assert.equal(listeners(), 0, "the iteration has ended: nothing listens any more");
    await assert.rejects(it.next(), (e) => e === "stop");
    assert.deepEqual(await it.next(), DONE, "then done, as a generator that has thrown");
    assert.deepEqual(await it.next(), DONE);
  });

  it("R5.7 map({ signal }): a map never iterated stops listening once every item is done; a later abort still throws at the next call", async () => {
    const futures = [running(), running(), new Future<unknown>()];
    const { controller, signal, listeners } = countedAbort();
    const maps = Array.from({ length: 15 }, () => new ResultIterator(futures, false, undefined, signal));
    assert.equal(listeners(), 1, "15 maps on one signal share one listener");
    futures[0].setResult(1);
    futures[1].setResult(2);
    assert.equal(listeners(), 1, "an item still pending: an abort could cancel it");
    futures[2].setRunningOrNotifyCancel();
    futures[2].setResult(3);
    assert.equal(listeners(), 0, "every item is done: nothing keeps the maps reachable from the signal");
    const reason = new Error("late abort");
    controller.abort(reason);
    for (const it of maps) {
      await assert.rejects(it.next(), (e) => e === reason);
      assert.deepEqual(await it.next(), DONE);
    }
  });

  it("R5.7 map({ signal }): a map read partly and dropped (no return()) stops listening once its items are done", async () => {
    const futures = [running(), running(), running()];
    const { signal, listeners } = countedAbort();
    const it = new ResultIterator(futures, false, undefined, signal);
    futures[0].setResult("a");
    assert.deepEqual(await it.next(), { value: "a", done: false });
    assert.equal(listeners(), 1);
    futures[1].setResult("b");
    futures[2].setException(new Error("boom"));
    assert.equal(listeners(), 0);
  });

  it("R5.7 map({ signal }): the listener goes when every item is done; a later abort still throws at the next call", async () => {
    const futures = [running(), running()];
    futures[0].setResult(chunk([1, 2]));
    futures[1].setResult(chunk([3, 4]));
    const { controller, signal, listeners } = countedAbort();
    const it = new ResultIterator(futures, true, undefined, signal);
    assert.deepEqual(await it.next(), { value: 1, done: false });
    assert.deepEqual(await it.next(), { value: 2, done: false });
    assert.deepEqual(await it.next(), { value: 3, done: false });
    assert.equal(listeners(), 0, "every item arrived: nothing left to cancel, so nothing listens");
    const reason = new Error("late abort");
    controller.abort(reason);
    await assert.rejects(it.next(), (e) => e === reason);
    assert.deepEqual(await it.next(), DONE);
  });

  it("R5.7 map({ signal }): iteration that ends (done, failure, return()) removes its listener; a later abort changes nothing", async () => {
    const { controller, signal, listeners } = countedAbort();
    // Done.
    const a = [running(), running()];
    a[0].setResult("a");
    a[1].setResult("b");
    const done = new ResultIterator(a, false, undefined, signal);
    const seen: unknown[] = [];
    for await (const x of done) seen.push(x);
    assert.deepEqual(seen, ["a", "b"]);
    // A failure.
    const b = [running(), new Future<unknown>()];
    const failed = new ResultIterator(b, false, undefined, signal);
    b[0].setException(new Error("boom"));
    await assert.rejects(failed.next(), { message: "boom" });
    // return().
    const c = [running(), new Future<unknown>()];
    const stopped = new ResultIterator(c, false, undefined, signal);
    await stopped.return();
    assert.equal(listeners(), 0, "no iteration that has ended listens to the signal");
    controller.abort(new Error("too late"));
    for (const it of [done, failed, stopped]) assert.deepEqual(await it.next(), DONE);
    assert.equal(c[0].running(), true);
  });

  it("R5.7 map({ signal }): an empty map holds no listener, and throws signal.reason at the next call after an abort", async () => {
    const { controller, signal, listeners } = countedAbort();
    const empty = new ResultIterator([], false, undefined, signal);
    assert.equal(listeners(), 0);
    controller.abort(new Error("stop"));
    await assert.rejects(empty.next(), { message: "stop" });
    assert.deepEqual(await empty.next(), DONE);
  });
});

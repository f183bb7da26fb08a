// Unit tests of wait() and asCompleted() over futures completed by hand (CPython test_wait / test_as_completed).

import "./_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ALL_COMPLETED,
  asCompleted,
  type CompletedFuture,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  TimeoutError,
  wait,
} from "../mod.ts";
import { countedAbort, within } from "./_test_utils.ts";

class OSError extends Error {
  static {
    this.prototype.name = "OSError";
  }
}

interface Fixtures {
  pf: Future<number>;
  rf: Future<number>;
  cf: Future<number>;
  cnf: Future<number>;
  ef: Future<number>;
  sf: Future<number>;
}

// CPython's helper futures: PENDING, RUNNING, CANCELLED, CANCELLED_AND_NOTIFIED, failed (OSError), succeeded (42).
function fixtures(): Fixtures {
  const pf = new Future<number>();
  const rf = new Future<number>();
  rf.setRunningOrNotifyCancel();
  const cf = new Future<number>();
  cf.cancel();
  const cnf = new Future<number>();
  cnf.cancel();
  cnf.setRunningOrNotifyCancel();
  const ef = new Future<number>();
  ef.setException(new OSError());
  const sf = new Future<number>();
  sf.setResult(42);
  return { pf, rf, cf, cnf, ef, sf };
}

// A future that another "thread" completes after `ms` milliseconds (the timer always fires within the test).
function later<T>(ms: number, complete: (f: Future<T>) => void): Future<T> {
  const f = new Future<T>();
  f.setRunningOrNotifyCancel();
  setTimeout(() => complete(f), ms);
  return f;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function elapsedSince(start: number): number {
  return performance.now() - start;
}

function sameMembers(actual: Iterable<unknown>, expected: unknown[]): void {
  const a = [...actual];
  assert.equal(a.length, expected.length, `expected ${expected.length} members, got ${a.length}`);
  for (const x of expected) assert.ok(a.includes(x), "a member is missing");
}

// asCompleted() yields the Future objects themselves, typed as CompletedFuture (no then) for for-await's sake.
async function collect<T>(iterable: AsyncIterable<CompletedFuture<T>>): Promise<CompletedFuture<T>[]> {
  const out: CompletedFuture<T>[] = [];
  for await (const f of iterable) out.push(f);
  return out;
}

describe("wait() (R6.1, R6.3, R9.3, R9.4)", () => {
  it("R6.1 wait([f, f]) collapses duplicates: done = {f}, notDone = {} (CPython test_20369)", async () => {
    const { sf } = fixtures();
    const { done, notDone } = await wait([sf, sf]);
    assert.ok(done instanceof Set && notDone instanceof Set);
    assert.deepEqual([...done], [sf]);
    assert.equal(notDone.size, 0);
  });

  it("R6.1 wait() accepts any iterable of futures (a Set, a generator) and wait([]) gives two empty sets", async () => {
    const f = fixtures();
    const fromSet = await wait(new Set([f.sf, f.ef]));
    sameMembers(fromSet.done, [f.sf, f.ef]);
    function* gen() {
      yield f.sf;
      yield f.pf;
      yield f.sf;
    }
    const fromGen = await wait(gen(), { timeout: 0 });
    sameMembers(fromGen.done, [f.sf]);
    sameMembers(fromGen.notDone, [f.pf]);
    const empty = await wait([]);
    assert.equal(empty.done.size, 0);
    assert.equal(empty.notDone.size, 0);
  });

  it("R6.1 FIRST_COMPLETED resolves at the first completion (CPython test_first_completed)", async () => {
    const slow = new Future<string>();
    const fast = later<string>(20, (f) => f.setResult("fast"));
    const start = performance.now();
    const { done, notDone } = await wait([fast, slow], { returnWhen: FIRST_COMPLETED });
    const elapsed = elapsedSince(start);
    assert.ok(elapsed >= 10 && elapsed < 5000, `resolved after ${elapsed} ms`);
    sameMembers(done, [fast]);
    sameMembers(notDone, [slow]);
    assert.equal(slow.done(), false);
  });

  it("R6.3 FIRST_COMPLETED counts an already cancelled (not notified) future as done and resolves at once (CPython differs: reference 44)", async () => {
    const { cf, pf } = fixtures();
    const slow = new Future<number>();
    const start = performance.now();
    const { done, notDone } = await wait([cf, pf, slow], { returnWhen: FIRST_COMPLETED });
    assert.ok(elapsedSince(start) < 1000);
    sameMembers(done, [cf]);
    sameMembers(notDone, [pf, slow]);
  });

  it("R6.1 FIRST_COMPLETED returns at once when some are already done (CPython test_first_completed_some_already_completed)", async () => {
    const { cnf, sf } = fixtures();
    const slow = new Future<number>();
    const start = performance.now();
    const { done, notDone } = await wait([cnf, sf, slow], { returnWhen: FIRST_COMPLETED });
    assert.ok(elapsedSince(start) < 1000);
    sameMembers(done, [cnf, sf]);
    sameMembers(notDone, [slow]);
  });

  it("R6.1 FIRST_EXCEPTION resolves when a future fails (CPython test_first_exception)", async () => {
    const f1 = later<number>(10, (f) => f.setResult(42));
    const f2 = later<number>(40, (f) => {
      assert.ok(f1.done());
      f.setException(new Error("after f1"));
    });
    const f3 = new Future<number>();
    const { done, notDone } = await wait([f1, f2, f3], { returnWhen: FIRST_EXCEPTION });
    sameMembers(done, [f1, f2]);
    sameMembers(notDone, [f3]);
  });

  it("R6.1 FIRST_EXCEPTION with some already complete waits for the failure (CPython test_first_exception_some_already_complete)", async () => {
    const { sf, cf, cnf } = fixtures();
    const failing = later<number>(20, (f) => f.setException(new RangeError("divmod(21, 0)")));
    const blocked = new Future<number>();
    const { done, notDone } = await wait([sf, cf, cnf, failing, blocked], { returnWhen: FIRST_EXCEPTION });
    // CPython leaves CF in not_done; procpool counts a cancelled future as done (R6.3).
    sameMembers(done, [sf, cf, cnf, failing]);
    sameMembers(notDone, [blocked]);
  });

  it("R6.1 FIRST_EXCEPTION returns at once when a future already failed (CPython test_first_exception_one_already_failed)", async () => {
    const { ef } = fixtures();
    const blocked = new Future<number>();
    const start = performance.now();
    const { done, notDone } = await wait([ef, blocked], { returnWhen: FIRST_EXCEPTION });
    assert.ok(elapsedSince(start) < 1000);
    sameMembers(done, [ef]);
    sameMembers(notDone, [blocked]);
  });

  it("R6.1 FIRST_EXCEPTION ignores cancellation and acts like ALL_COMPLETED when nothing fails", async () => {
    const { cnf, sf } = fixtures();
    const cancelledLater = new Future<number>();
    setTimeout(() => cancelledLater.cancel(), 10);
    const okLater = later<number>(50, (f) => f.setResult(1));
    const start = performance.now();
    const { done, notDone } = await wait([cnf, sf, cancelledLater, okLater], { returnWhen: FIRST_EXCEPTION });
    const elapsed = elapsedSince(start);
    assert.ok(elapsed >= 35 && elapsed < 5000, `resolved after ${elapsed} ms`);
    sameMembers(done, [cnf, sf, cancelledLater, okLater]);
    assert.equal(notDone.size, 0);
  });

  it("R6.1 FIRST_EXCEPTION with no failure and a timeout returns what is done, like CPython", async () => {
    const { cnf, sf, pf } = fixtures();
    const { done, notDone } = await wait([cnf, sf, pf], { returnWhen: FIRST_EXCEPTION, timeout: 30 });
    sameMembers(done, [cnf, sf]);
    sameMembers(notDone, [pf]);
  });

  it("R6.1 FIRST_EXCEPTION counts a thrown undefined as an exception (failure is a flag, R2.5)", async () => {
    const failing = later<number>(10, (f) => f.setException(undefined));
    const blocked = new Future<number>();
    const { done, notDone } = await wait([failing, blocked], { returnWhen: FIRST_EXCEPTION });
    sameMembers(done, [failing]);
    sameMembers(notDone, [blocked]);
  });

  it("R6.1 ALL_COMPLETED waits for every future (CPython test_all_completed)", async () => {
    const { sf, cnf, ef } = fixtures();
    const divmod = later<number>(10, (f) => f.setException(new RangeError("division by zero")));
    const mul = later<number>(40, (f) => f.setResult(42));
    const { done, notDone } = await wait([sf, cnf, ef, divmod, mul], { returnWhen: ALL_COMPLETED });
    sameMembers(done, [sf, cnf, ef, divmod, mul]);
    assert.equal(notDone.size, 0);
  });

  it("R6.1 ALL_COMPLETED is the default returnWhen", async () => {
    const a = later<number>(10, (f) => f.setResult(1));
    const b = later<number>(40, (f) => f.setResult(2));
    const { done, notDone } = await wait([a, b]);
    sameMembers(done, [a, b]);
    assert.equal(notDone.size, 0);
  });

  it("R6.1 a timeout never rejects: wait resolves with what is done by then (CPython test_timeout)", async () => {
    const { cnf, ef, sf } = fixtures();
    const blocked = new Future<number>();
    const start = performance.now();
    const { done, notDone } = await wait([cnf, ef, sf, blocked], { timeout: 60, returnWhen: ALL_COMPLETED });
    const elapsed = elapsedSince(start);
    assert.ok(elapsed >= 45 && elapsed < 5000, `resolved after ${elapsed} ms`);
    sameMembers(done, [cnf, ef, sf]);
    sameMembers(notDone, [blocked]);
    assert.equal(blocked.state, "PENDING");
  });

  it("R6.1 a timeout of 0 or below checks once and resolves at once", async () => {
    const { pf, sf } = fixtures();
    for (const timeout of [0, -1, -1000]) {
      for (const returnWhen of [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED] as const) {
        const start = performance.now();
        const { done, notDone } = await wait([pf, sf], { timeout, returnWhen });
        assert.ok(elapsedSince(start) < 1000);
        sameMembers(done, [sf]);
        sameMembers(notDone, [pf]);
      }
    }
  });

  it("R9.3 wait() with timeout Infinity waits for the condition", async () => {
    const a = later<number>(30, (f) => f.setResult(1));
    const { done } = await wait([a], { timeout: Infinity });
    sameMembers(done, [a]);
  });

  it("R9.3 wait() with a NaN timeout rejects with RangeError", async () => {
    const { pf } = fixtures();
    await assert.rejects(wait([pf], { timeout: NaN }), RangeError);
  });

  it("R6.3 a future cancelled while wait() waits wakes it and counts as done", async () => {
    const f = new Future<number>();
    setTimeout(() => f.cancel(), 20);
    const other = new Future<number>();
    const first = await wait([f, other], { returnWhen: FIRST_COMPLETED });
    sameMembers(first.done, [f]);
    const g = new Future<number>();
    setTimeout(() => g.cancel(), 20);
    const all = await wait([g], { returnWhen: ALL_COMPLETED });
    sameMembers(all.done, [g]);
  });

  it("R6.3 wait() counts CANCELLED and CANCELLED_AND_NOTIFIED alike as done", async () => {
    const { cf, cnf } = fixtures();
    const start = performance.now();
    const { done, notDone } = await wait([cf, cnf]);
    assert.ok(elapsedSince(start) < 1000);
    sameMembers(done, [cf, cnf]);
    assert.equal(notDone.size, 0);
  });

  it("R6.1 the sets hold the Future objects themselves and wait() changes no future", async () => {
    const f = fixtures();
    const all = [f.pf, f.rf, f.cf, f.cnf, f.ef, f.sf];
    const states = all.map((x) => x.state);
    const { done, notDone } = await wait(all, { timeout: 10 });
    for (const x of [...done, ...notDone]) assert.ok(x instanceof Future);
    sameMembers([...done, ...notDone], all);
    assert.deepEqual(all.map((x) => x.state), states);
  });

  it("R9.4 wait() with a non-Future in fs rejects with TypeError (not a synchronous throw)", async () => {
    const { sf } = fixtures();
    const thenable = { then: (resolve: (v: number) => void) => resolve(1) };
    for (const fs of [[sf, 42], [thenable], [Promise.resolve(1)], [undefined], "ab", null, undefined, 5, {}]) {
      let promise: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        promise = wait(fs as never);
      });
      await assert.rejects(promise!, TypeError);
    }
  });

  it("R9.4 wait() with an unknown returnWhen rejects with RangeError, even when every future is done", async () => {
    const { pf, sf } = fixtures();
    for (const fs of [[pf], [sf], []]) {
      for (const returnWhen of ["BOGUS", "first_completed", 1]) {
        let promise: Promise<unknown> | undefined;
        assert.doesNotThrow(() => {
          promise = wait(fs, { returnWhen: returnWhen as never, timeout: 0 });
        });
        await assert.rejects(promise!, (error: unknown) => {
          assert.ok(error instanceof RangeError, `returnWhen ${String(returnWhen)}`);
          return true;
        });
      }
    }
    await assert.rejects(wait([pf], { returnWhen: "BOGUS" as never }), /Invalid return condition.*BOGUS/);
  });
});

describe("wait() and asCompleted() bad input (R9.3, R9.4)", () => {
  const junk: unknown[] = [null, 42, "x", true, Symbol("s"), 5n, () => {}];

  it("R9.4 wait() with options that are not an object rejects with a TypeError naming options", async () => {
    const { sf } = fixtures();
    for (const options of junk) {
      let promise: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        promise = wait([sf], options as never);
      });
      await assert.rejects(
        promise!,
        (error: unknown) => error instanceof TypeError && /\boptions\b/.test(error.message),
      );
    }
  });

  it("R9.4 asCompleted() with options that are not an object throws a TypeError naming options at the call", () => {
    const { sf } = fixtures();
    for (const options of junk) {
      assert.throws(
        () => asCompleted([sf], options as never),
        (error: unknown) => error instanceof TypeError && /\boptions\b/.test(error.message),
      );
    }
  });

  it("R9.4 a returnWhen of any other type (symbol, bigint, null-prototype object, null) is a RangeError naming returnWhen", async () => {
    const { sf } = fixtures();
    for (const returnWhen of [Symbol("FIRST_COMPLETED"), 1n, Object.create(null), [], {}, () => {}, NaN]) {
      await assert.rejects(
        wait([sf], { returnWhen: returnWhen as never }),
        (error: unknown) => error instanceof RangeError && /returnWhen/.test(error.message),
      );
    }
  });

  it("R9.4 a non-Future in fs that cannot become a string (null-prototype object, symbol) is a TypeError naming fs", async () => {
    for (const bad of [Object.create(null), Symbol("s"), { toString: null }]) {
      const named = (error: unknown) => error instanceof TypeError && /\bfs\b/.test(error.message);
      await assert.rejects(wait([bad] as never), named);
      assert.throws(() => asCompleted([bad] as never), named);
    }
  });

  it("R9.3 a timeout that is not a number is a TypeError naming timeout, from wait() and asCompleted()", async () => {
    const { pf } = fixtures();
    for (const timeout of ["10", 10n, Symbol("t"), {}, Object.create(null), true]) {
      const named = (error: unknown) => error instanceof TypeError && /\btimeout\b/.test(error.message);
      await assert.rejects(wait([pf], { timeout: timeout as never }), named);
      assert.throws(() => asCompleted([pf], { timeout: timeout as never }), named);
    }
  });
});

describe("asCompleted() (R6.2, R6.3, R9.3, R9.4)", () => {
  it("R6.2 asCompleted() yields the already-done futures first, then the others in completion order (CPython test_no_timeout)", async () => {
    const { cnf, ef, sf } = fixtures();
    const f1 = later<number>(50, (f) => f.setResult(1));
    const f2 = later<number>(10, (f) => f.setException(new Error("f2")));
    const order = await collect(asCompleted([cnf, ef, sf, f1, f2]));
    assert.equal(order.length, 5);
    sameMembers(order.slice(0, 3), [cnf, ef, sf]);
    assert.deepEqual(order.slice(3), [f2, f1]);
  });

  it("R6.2 asCompleted() yields Future objects, not their results, and does not throw a future's error", async () => {
    const { ef, sf } = fixtures();
    const undefFailed = new Future<number>();
    undefFailed.setException(undefined);
    const seen: unknown[] = [];
    for await (const f of asCompleted([sf, ef, undefFailed])) seen.push(f);
    sameMembers(seen, [sf, ef, undefFailed]);
    for (const f of seen) assert.ok(f instanceof Future);
  });

  it('R6.2 with a timeout, the done futures are yielded, then TimeoutError "1 (of 4) futures unfinished" (CPython test_future_times_out)', async () => {
    for (const timeout of [0, 60]) {
      const { cnf, ef, sf } = fixtures();
      const sleeper = new Future<number>();
      const seen: CompletedFuture<number>[] = [];
      const start = performance.now();
      await assert.rejects(
        (async () => {
          for await (const f of asCompleted([cnf, ef, sf, sleeper], { timeout })) seen.push(f);
        })(),
        (error: unknown) => {
          assert.ok(error instanceof TimeoutError);
          assert.equal(error.name, "TimeoutError");
          assert.equal(error.message, "1 (of 4) futures unfinished");
          return true;
        },
      );
      const elapsed = elapsedSince(start);
      assert.ok(elapsed >= timeout * 0.75 && elapsed < timeout + 5000, `timed out after ${elapsed} ms`);
      sameMembers(seen, [cnf, ef, sf]);
      assert.equal(sleeper.state, "PENDING");
    }
  });

  it('R6.2 the timeout message is exactly "2 (of 4) futures unfinished" for [CNF, PF, RF, SF] (CPython test_correct_timeout_exception_msg)', async () => {
    const { cnf, pf, rf, sf } = fixtures();
    const it = asCompleted([cnf, pf, rf, sf], { timeout: 0 });
    const seen: CompletedFuture<number>[] = [];
    let caught: unknown;
    try {
      for await (const f of it) seen.push(f);
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof TimeoutError);
    assert.equal(caught.message, "2 (of 4) futures unfinished");
    sameMembers(seen, [cnf, sf]);
  });

  it("R6.2 a future finishing before the deadline is yielded, then the rest time out", async () => {
    const quick = later<number>(10, (f) => f.setResult(1));
    const never = new Future<number>();
    const it = asCompleted([quick, never, quick], { timeout: 80 });
    const start = performance.now();
    const first = await it.next();
    assert.deepEqual(first, { value: quick, done: false });
    await assert.rejects(it.next(), (error: unknown) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.message, "1 (of 2) futures unfinished");
      return true;
    });
    const elapsed = elapsedSince(start);
    assert.ok(elapsed >= 60 && elapsed < 5000, `timed out after ${elapsed} ms`);
    // After the TimeoutError the iterator is finished.
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  it("R6.2 a future passed several times is yielded once (CPython test_duplicate_futures)", async () => {
    const f = later<number>(10, (x) => x.setResult(1));
    assert.deepEqual(await collect(asCompleted([f, f, f])), [f]);
    function* thrice() {
      yield f;
      yield f;
      yield f;
    }
    assert.deepEqual(await collect(asCompleted(thrice())), [f]);
    const { sf } = fixtures();
    assert.deepEqual(await collect(asCompleted(new Set([sf]))), [sf]);
  });

  it("R6.2 the timeout clock starts at the first next(), not at the call (CPython 59)", async () => {
    const f = new Future<number>();
    const it = asCompleted([f], { timeout: 80 });
    await sleep(200);
    setTimeout(() => f.setResult(1), 20);
    const first = await it.next();
    assert.deepEqual(first, { value: f, done: false });
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  it("R6.2 nothing is inspected before the first next(): a future finished in between is yielded first", async () => {
    const a = new Future<number>();
    const b = later<number>(30, (f) => f.setResult(2));
    const it = asCompleted([b, a]);
    a.setResult(1);
    assert.deepEqual(await collect(it), [a, b]);
  });

  it("R6.2 asCompleted([]) yields nothing, with or without a timeout", async () => {
    assert.deepEqual(await collect(asCompleted([])), []);
    assert.deepEqual(await collect(asCompleted([], { timeout: 0 })), []);
  });

  it("R6.2 futures completed one by one during iteration are each yielded as they complete (CPython test_free_reference_yielded_future)", async () => {
    const futures = [new Future<number>(), new Future<number>(), new Future<number>()];
    futures[0].setResult(0);
    const seen: CompletedFuture<number>[] = [];
    for await (const f of asCompleted(futures, { timeout: 5000 })) {
      seen.push(f);
      const next = futures[seen.length];
      if (next) setTimeout(() => next.setResult(seen.length), 5);
    }
    assert.deepEqual(seen, futures);
  });

  it("R6.3 asCompleted() yields cancelled futures, also one cancelled during iteration (CPython differs: reference 44)", async () => {
    const { cf, cnf } = fixtures();
    const cancelledLater = new Future<number>();
    setTimeout(() => cancelledLater.cancel(), 10);
    const seen = await collect(asCompleted([cf, cancelledLater, cnf], { timeout: 5000 }));
    assert.equal(seen.length, 3);
    sameMembers(seen.slice(0, 2), [cf, cnf]);
    assert.equal(seen[2], cancelledLater);
  });

  it("R6.2 return() stops the iteration: later next() calls are done, even when futures finish afterwards", async () => {
    const { sf } = fixtures();
    const pending = new Future<number>();
    const it = asCompleted([sf, pending], { timeout: 60 });
    assert.deepEqual(await it.next(), { value: sf, done: false });
    assert.deepEqual(await it.return!(), { value: undefined, done: true });
    pending.setResult(1);
    assert.deepEqual(await it.next(), { value: undefined, done: true });
    // No TimeoutError either, once stopped: wait past the deadline.
    await sleep(80);
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  it("R6.2 return() while a next() is waiting does not leave that next() hanging forever", async () => {
    const f = new Future<number>();
    const it = asCompleted([f]);
    const waiting = it.next();
    assert.deepEqual(await it.return!(), { value: undefined, done: true });
    f.setResult(1);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      waiting,
      new Promise<"hung">((resolve) => {
        timer = setTimeout(() => resolve("hung"), 1000);
      }),
    ]);
    clearTimeout(timer);
    assert.notEqual(outcome, "hung", "the next() pending at return() never settled");
    // Either the stop won (done) or the completion did (f); both end the wait.
    assert.ok(
      (outcome as IteratorResult<CompletedFuture<number>>).done === true ||
        (outcome as IteratorResult<CompletedFuture<number>>).value === f,
    );
  });

  it("R6.2 asCompleted(): parallel next() calls get each future once, in completion order, as futures complete later", async () => {
    const a = new Future<number>();
    const b = new Future<number>();
    const c = new Future<number>();
    const it = asCompleted([a, b, c]);
    const order: number[] = [];
    const calls = [0, 1, 2, 3].map((i) =>
      it.next().then((r) => {
        order.push(i);
        return r;
      })
    );
    setTimeout(() => b.setResult(2), 5);
    setTimeout(() => {
      c.setResult(3);
      a.setResult(1);
    }, 15);
    assert.deepEqual(await within(Promise.all(calls)), [
      { value: b, done: false },
      { value: c, done: false },
      { value: a, done: false },
      { value: undefined, done: true },
    ]);
    assert.deepEqual(order, [0, 1, 2, 3], "the calls settle in call order");
  });

  it("R6.2 asCompleted(): parallel next() calls take the already-done futures first, then wait in order", async () => {
    const { sf, ef } = fixtures();
    const late = new Future<number>();
    const it = asCompleted([late, sf, ef]);
    const calls = [it.next(), it.next(), it.next(), it.next()];
    setTimeout(() => late.setResult(1), 5);
    const got = await within(Promise.all(calls));
    sameMembers(got.slice(0, 2).map((r) => r.value), [sf, ef]);
    assert.deepEqual(got.slice(2), [{ value: late, done: false }, { value: undefined, done: true }]);
  });

  it("R6.2 asCompleted(): with a timeout, parallel next() calls get what completes, then one TimeoutError, then done", async () => {
    const { sf } = fixtures();
    const quick = new Future<number>();
    const never = new Future<number>();
    const it = asCompleted([sf, quick, never], { timeout: 60 });
    const settled = [0, 1, 2, 3, 4].map((i) =>
      it.next().then(
        (r) => ({ i, value: r.value, done: r.done }),
        (error: unknown) => ({ i, error }),
      )
    );
    setTimeout(() => quick.setResult(1), 5);
    const start = performance.now();
    const got = await within(Promise.all(settled));
    const elapsed = elapsedSince(start);
    assert.deepEqual(got.slice(0, 2), [{ i: 0, value: sf, done: false }, { i: 1, value: quick, done: false }]);
    const timedOut = got[2] as { error?: unknown };
    assert.ok(timedOut.error instanceof TimeoutError, "the third call rejects with TimeoutError");
    assert.equal(timedOut.error.message, "1 (of 3) futures unfinished");
    assert.deepEqual(got.slice(3), [{ i: 3, value: undefined, done: true }, { i: 4, value: undefined, done: true }]);
    assert.ok(elapsed >= 40 && elapsed < 5000, `timed out after ${elapsed} ms`);
    never.setResult(0);
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  it("R6.2 asCompleted(): return() while parallel next() calls wait resolves each of them done", async () => {
    const f = new Future<number>();
    const g = new Future<number>();
    const it = asCompleted([f, g], { timeout: 5000 });
    const calls = [it.next(), it.next(), it.next()];
    assert.deepEqual(await it.return!(), { value: undefined, done: true });
    f.setResult(1);
    const done = { value: undefined, done: true };
    assert.deepEqual(await within(Promise.all(calls)), [done, done, done]);
  });

  it("R6.2 breaking out of for await stops the iteration", async () => {
    const { sf, ef } = fixtures();
    const pending = new Future<number>();
    const it = asCompleted([sf, ef, pending]);
    for await (const f of it) {
      assert.ok(f === sf || f === ef);
      break;
    }
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  it("R6.2 asCompleted() is its own async iterator", () => {
    const it = asCompleted([]);
    assert.equal(it[Symbol.asyncIterator](), it);
  });

  it("R9.4 asCompleted() with a non-Future or a non-iterable throws TypeError synchronously at the call", () => {
    const { sf } = fixtures();
    const thenable = { then: (resolve: (v: number) => void) => resolve(1) };
    for (const fs of [[sf, 42], [thenable], [Promise.resolve(1)], [null], "ab", null, undefined, 5, {}]) {
      assert.throws(() => asCompleted(fs as never), TypeError);
    }
  });

  it("R9.3 asCompleted() with a NaN timeout throws RangeError at the call", () => {
    const { pf } = fixtures();
    assert.throws(() => asCompleted([pf], { timeout: NaN }), RangeError);
  });

  it("R9.3 asCompleted() with a negative timeout checks once", async () => {
    const { pf, sf } = fixtures();
    const seen: CompletedFuture<number>[] = [];
    await assert.rejects(
      (async () => {
        for await (const f of asCompleted([pf, sf], { timeout: -5 })) seen.push(f);
      })(),
      (error: unknown) => error instanceof TimeoutError && error.message === "1 (of 2) futures unfinished",
    );
    assert.deepEqual(seen, [sf]);
  });

  it("R9.3 asCompleted() with a timeout above 2**31-1 ms does not time out early", async () => {
    const f = later<number>(60, (x) => x.setResult(1));
    assert.deepEqual(await collect(asCompleted([f], { timeout: 2 ** 31 + 10 })), [f]);
  });
});

describe("wait() and asCompleted() with an AbortSignal (R6.4, R6.5, R9.7)", () => {
  it("R6.4 wait({ signal }) rejects with signal.reason when the signal aborts, and leaves the futures as they were", async () => {
    const { pf, rf, sf } = fixtures();
    const { controller, signal, listeners } = countedAbort();
    const waiting = wait([pf, rf, sf], { signal });
    await tick();
    assert.equal(listeners(), 1, "one listener while the wait is under way");
    const reason = new Error("gave up");
    controller.abort(reason);
    await assert.rejects(within(waiting), (e) => e === reason);
    assert.equal(pf.state, "PENDING", "aborting a wait cancels nothing");
    assert.equal(rf.state, "RUNNING");
    assert.equal(listeners(), 0);
  });

  it("R6.4 wait({ signal }) with a signal aborted already rejects with signal.reason, even when the condition holds", async () => {
    const { sf } = fixtures();
    const reason = new Error("aborted before");
    await assert.rejects(wait([sf], { signal: AbortSignal.abort(reason) }), (e) => e === reason);
    await assert.rejects(wait([], { signal: AbortSignal.abort("any value") }), (e) => e === "any value");
  });

  it("R6.4 wait({ signal }) that resolves (condition, timeout, at once) leaves no listener, and a later abort changes nothing", async () => {
    const { controller, signal, listeners } = countedAbort();
    const { sf } = fixtures();
    const slow = new Future<number>();
    const fast = later<number>(5, (f) => f.setResult(1));
    const byCondition = await within(wait([fast, slow], { signal, returnWhen: FIRST_COMPLETED }));
    sameMembers(byCondition.done, [fast]);
    const byTimeout = await within(wait([slow], { signal, timeout: 5 }));
    sameMembers(byTimeout.notDone, [slow]);
    const atOnce = await wait([sf], { signal });
    sameMembers(atOnce.done, [sf]);
    assert.equal(listeners(), 0, "every settled wait removed its listener");
    controller.abort(new Error("later"));
    slow.setResult(2);
  });

  it("R6.4 many waits sharing one long-lived signal leave no listener behind", async () => {
    const { signal, listeners } = countedAbort();
    for (let i = 0; i < 50; i++) {
      const f = later<number>(0, (x) => x.setResult(i));
      await wait([f], { signal });
    }
    assert.equal(listeners(), 0);
  });

  it("R6.4 twenty concurrent wait() and asCompleted() calls on one signal add one listener to it between them, and no MaxListenersExceededWarning", async () => {
    // Node warns at the eleventh listener on one EventTarget; the count shows the same thing on every runtime.
    const warnings: string[] = [];
    const proc = (globalThis as {
      process?: { on?(event: string, fn: (w: Error) => void): void; off?(event: string, fn: (w: Error) => void): void };
    }).process;
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    proc?.on?.("warning", onWarning);
    try {
      const { controller, signal, listeners } = countedAbort();
      const futures = Array.from({ length: 20 }, () => new Future<number>());
      const waits = futures.map((f) => wait([f], { signal }));
      const iterators = futures.map((f) => asCompleted([f], { signal }));
      const nexts = iterators.map((it) => it.next());
      assert.equal(listeners(), 1, "one listener for 20 waits and 20 asCompleted iterations");
      futures.slice(0, 10).forEach((f, i) => f.setResult(i));
      await Promise.all(waits.slice(0, 10));
      await Promise.all(nexts.slice(0, 10));
      assert.equal(listeners(), 1, "still listening for the calls not settled");
      const reason = new Error("stop");
      controller.abort(reason);
      for (const waiting of waits.slice(10)) await assert.rejects(waiting, (e) => e === reason);
      for (const next of nexts.slice(10)) await assert.rejects(next, (e) => e === reason);
      assert.equal(listeners(), 0);
      futures.slice(10).forEach((f) => assert.equal(f.cancelled() || f.done(), false, "an abort leaves futures alone"));
      const again = Array.from({ length: 20 }, () => new Future<number>());
      const { signal: other, listeners: otherListeners } = countedAbort();
      const settled = again.map((f) => wait([f], { signal: other }));
      assert.equal(otherListeners(), 1);
      again.forEach((f) => f.setResult(1));
      await Promise.all(settled);
      assert.equal(otherListeners(), 0, "the last call to settle removed the shared listener");
      await tick(); // Node emits warnings on a later tick
      assert.deepEqual(warnings.filter((w) => /MaxListeners|memory leak/.test(w)), []);
    } finally {
      proc?.off?.("warning", onWarning);
    }
  });

  it("R6.5 asCompleted({ signal }): an abort rejects the waiting next() with signal.reason; later calls are done", async () => {
    const { sf, pf } = fixtures();
    const { controller, signal, listeners } = countedAbort();
    const it = asCompleted([sf, pf], { signal });
    assert.equal(listeners(), 0, "nothing is watched before the first next()");
    assert.equal((await it.next()).value, sf);
    assert.equal(listeners(), 1, "one listener while some future is pending");
    const waiting = it.next();
    const behind = it.next();
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(within(waiting), (e) => e === reason);
    assert.deepEqual(await within(behind), { value: undefined, done: true });
    assert.deepEqual(await it.next(), { value: undefined, done: true });
    assert.equal(listeners(), 0);
    assert.equal(pf.state, "PENDING", "aborting the iteration cancels nothing");
    pf.setResult(1);
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  it("R6.5 asCompleted({ signal }): an abort while no next() waits makes the next call throw signal.reason once, even with futures ready", async () => {
    const a = new Future<number>();
    const b = new Future<number>();
    const { controller, signal } = countedAbort();
    const it = asCompleted([a, b], { signal });
    const first = it.next();
    a.setResult(1);
    assert.equal((await within(first)).value, a);
    b.setResult(2); // done, not yet yielded
    controller.abort("stop");
    await assert.rejects(it.next(), (e) => e === "stop");
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  it("R6.5 asCompleted({ signal }): an abort between the call and the first next() throws at that next()", async () => {
    const { pf } = fixtures();
    const { controller, signal, listeners } = countedAbort();
    const it = asCompleted([pf], { signal });
    controller.abort(new Error("early"));
    await assert.rejects(it.next(), { message: "early" });
    assert.deepEqual(await it.next(), { value: undefined, done: true });
    assert.equal(listeners(), 0);
  });

  it("R6.5 asCompleted({ signal }) with a signal aborted already throws signal.reason at the call", () => {
    const { pf } = fixtures();
    const reason = new Error("aborted before");
    assert.throws(() => asCompleted([pf], { signal: AbortSignal.abort(reason) }), (e) => e === reason);
  });

  it("R6.5 asCompleted({ signal }): an iteration that ended (done, timeout, return()) holds no listener; a later abort changes nothing", async () => {
    const { controller, signal, listeners } = countedAbort();
    const f = later<number>(5, (x) => x.setResult(1));
    assert.deepEqual(await within(collect(asCompleted([f], { signal }))), [f]);
    const pending = new Future<number>();
    const timedOut = asCompleted([pending], { signal, timeout: 5 });
    await assert.rejects(within(timedOut.next()), TimeoutError);
    const returned = asCompleted([pending], { signal });
    const waiting = returned.next();
    await returned.return?.();
    assert.deepEqual(await waiting, { value: undefined, done: true });
    assert.equal(listeners(), 0);
    controller.abort(new Error("too late"));
    assert.deepEqual(await timedOut.next(), { value: undefined, done: true });
    assert.deepEqual(await returned.next(), { value: undefined, done: true });
    pending.setResult(0);
  });

  it("R9.7 signal: null means no signal (as in fetch), for wait() and asCompleted()", async () => {
    const { sf, pf } = fixtures();
    sameMembers((await wait([sf], { signal: null } as never)).done, [sf]);
    sameMembers((await wait([pf], { signal: null, timeout: 0 } as never)).notDone, [pf]);
    const seen: unknown[] = [];
    for await (const f of asCompleted([sf], { signal: null } as never)) seen.push(f);
    assert.deepEqual(seen, [sf]);
  });

  it("R9.7 a signal that is not an AbortSignal is a TypeError naming signal, from wait() and asCompleted()", async () => {
    const { sf } = fixtures();
    for (const signal of ["abort", 1, {}, { aborted: false }, new AbortController(), () => {}]) {
      await assert.rejects(wait([sf], { signal } as never), (e: unknown) => {
        assert.ok(e instanceof TypeError, `wait: ${e}`);
        assert.match(e.message, /\bsignal must be an AbortSignal\b/);
        return true;
      });
      assert.throws(() => asCompleted([sf], { signal } as never), (e: unknown) => {
        assert.ok(e instanceof TypeError, `asCompleted: ${e}`);
        assert.match(e.message, /\bsignal must be an AbortSignal\b/);
        return true;
      });
    }
  });
});

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

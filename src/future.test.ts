// Unit tests of the Future state machine: predicates, result()/exception(), timeouts, done-callbacks, repr.

import "./_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { inspect } from "node:util";
import v8 from "node:v8";
import vm from "node:vm";
import {
  CancelledError,
  Future,
  FuturesError,
  InvalidStateError,
  RuntimeError,
  setLogger,
  TimeoutError,
} from "../mod.ts";

// CPython's fixtures (reference part b): EF holds an OSError; we give JS a class of that name.
class OSError extends Error {
  static {
    this.prototype.name = "OSError";
  }
}
class ValueError extends Error {
  static {
    this.prototype.name = "ValueError";
  }
}

interface Fixtures {
  pf: Future<number>;
  rf: Future<number>;
  cf: Future<number>;
  cnf: Future<number>;
  ef: Future<number>;
  sf: Future<number>;
  efError: OSError;
}

function fixtures(): Fixtures {
  const pf = new Future<number>();
  const rf = new Future<number>();
  rf.setRunningOrNotifyCancel();
  const cf = new Future<number>();
  cf.cancel();
  const cnf = new Future<number>();
  cnf.cancel();
  cnf.setRunningOrNotifyCancel();
  const efError = new OSError("disk on fire");
  const ef = new Future<number>();
  ef.setException(efError);
  const sf = new Future<number>();
  sf.setResult(42);
  return { pf, rf, cf, cnf, ef, sf, efError };
}

const isTimeout = (error: unknown): boolean => error instanceof TimeoutError;

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

// Settles a promise into a record, so that falsy rejection values (undefined, 0, "") can be asserted exactly.
async function settle<T>(promise: PromiseLike<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

// Whether `promise` is still unsettled after `ms` milliseconds (the timer is cleared either way).
async function stillPendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const marker = Symbol("pending");
  const outcome = await Promise.race([
    promise.then(() => "settled", () => "settled"),
    new Promise<symbol>((resolve) => {
      timer = setTimeout(() => resolve(marker), ms);
    }),
  ]);
  clearTimeout(timer);
  return outcome === marker;
}

// Runs `body` with a logger that records every call, restoring the previous logger afterwards.
function withLog<R>(body: (entries: [string, unknown][]) => R): R {
  const entries: [string, unknown][] = [];
  const previous = setLogger((message, error) => {
    entries.push([message, error]);
  });
  try {
    return body(entries);
  } finally {
    setLogger(previous);
  }
}

async function withLogAsync<R>(body: (entries: [string, unknown][]) => Promise<R>): Promise<R> {
  const entries: [string, unknown][] = [];
  const previous = setLogger((message, error) => {
    entries.push([message, error]);
  });
  try {
    return await body(entries);
  } finally {
    setLogger(previous);
  }
}

// A full, synchronous garbage collection, so that heap figures count only what is still reachable. Bun has
// Bun.gc; V8 (Node, Deno) exposes gc() to contexts made after the flag is set at run time.
function fullGc(): (() => void) | undefined {
  const g = globalThis as { gc?: () => void; Bun?: { gc(sync: boolean): void } };
  if (typeof g.gc === "function") return () => g.gc!();
  const bun = g.Bun;
  if (bun !== undefined) return () => bun.gc(true);
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc: unknown = vm.runInNewContext("gc");
    return typeof gc === "function" ? gc as () => void : undefined;
  } catch {
    return undefined;
  }
}

const REPR = /^<Future at #\d+ state=(pending|running|cancelled|finished (returned|raised) \S+)>$/;

describe("Future states (R4.1, R4.2)", () => {
  it("R4.1 the fixtures are in CPython's named states", () => {
    const f = fixtures();
    assert.equal(f.pf.state, "PENDING");
    assert.equal(f.rf.state, "RUNNING");
    assert.equal(f.cf.state, "CANCELLED");
    assert.equal(f.cnf.state, "CANCELLED_AND_NOTIFIED");
    assert.equal(f.ef.state, "FINISHED");
    assert.equal(f.sf.state, "FINISHED");
  });

  it("R4.1 cancelled() is true only for CANCELLED and CANCELLED_AND_NOTIFIED (CPython test_cancelled)", () => {
    const f = fixtures();
    assert.deepEqual(
      [f.pf, f.rf, f.cf, f.cnf, f.ef, f.sf].map((x) => x.cancelled()),
      [false, false, true, true, false, false],
    );
  });

  it("R4.1 running() is true only for RUNNING (CPython test_running)", () => {
    const f = fixtures();
    assert.deepEqual(
      [f.pf, f.rf, f.cf, f.cnf, f.ef, f.sf].map((x) => x.running()),
      [false, true, false, false, false, false],
    );
  });

  it("R4.1 done() is true for both cancelled states and FINISHED, ok or failed (CPython test_done)", () => {
    const f = fixtures();
    assert.deepEqual(
      [f.pf, f.rf, f.cf, f.cnf, f.ef, f.sf].map((x) => x.done()),
      [false, false, true, true, true, true],
    );
  });

  it("R4.1 a future failed with a falsy non-Error is done, not running, not cancelled", () => {
    for (const thrown of [undefined, null, 0, "", false]) {
      const f = new Future();
      f.setException(thrown);
      assert.deepEqual([f.done(), f.running(), f.cancelled(), f.state], [true, false, false, "FINISHED"]);
    }
  });

  it("R4.2 cancel() returns true, false, true, true, false, false for PF, RF, CF, CNF, EF, SF (CPython test_cancel)", () => {
    const f = fixtures();
    assert.deepEqual(
      [f.pf, f.rf, f.cf, f.cnf, f.ef, f.sf].map((x) => x.cancel()),
      [true, false, true, true, false, false],
    );
    // Only PF changed state; CNF stays notified.
    assert.deepEqual(
      [f.pf, f.rf, f.cf, f.cnf, f.ef, f.sf].map((x) => x.state),
      ["CANCELLED", "RUNNING", "CANCELLED", "CANCELLED_AND_NOTIFIED", "FINISHED", "FINISHED"],
    );
  });

  it("R4.2 cancel() leaves a running or finished future's outcome alone", async () => {
    const f = fixtures();
    f.rf.cancel();
    f.sf.cancel();
    f.ef.cancel();
    f.rf.setResult(7);
    assert.equal(await f.rf.result(), 7);
    assert.equal(await f.sf.result(), 42);
    assert.equal(await f.ef.exception(), f.efError);
  });

  it("R4.1 setRunningOrNotifyCancel() moves PENDING to RUNNING (true) and CANCELLED to CANCELLED_AND_NOTIFIED (false)", () => {
    const a = new Future();
    assert.equal(a.setRunningOrNotifyCancel(), true);
    assert.equal(a.state, "RUNNING");
    const b = new Future();
    b.cancel();
    assert.equal(b.setRunningOrNotifyCancel(), false);
    assert.equal(b.state, "CANCELLED_AND_NOTIFIED");
    assert.equal(b.cancelled(), true);
  });

  it('R4.1 setRunningOrNotifyCancel() in RUNNING, CANCELLED_AND_NOTIFIED or FINISHED throws RuntimeError "Future in unexpected state"', () => {
    withLog((entries) => {
      const f = fixtures();
      for (const future of [f.rf, f.cnf, f.ef, f.sf]) {
        const before = future.state;
        assert.throws(
          () => future.setRunningOrNotifyCancel(),
          (error: unknown) =>
            error instanceof RuntimeError && error.name === "RuntimeError" &&
            error.message === "Future in unexpected state",
        );
        assert.equal(future.state, before);
      }
      // CPython also logs "Future <id> in unexpected state: <STATE>" (CRITICAL).
      assert.equal(entries.length, 4);
      assert.match(entries[0][0], /^Future \d+ in unexpected state: RUNNING$/);
      assert.match(entries[1][0], /^Future \d+ in unexpected state: CANCELLED_AND_NOTIFIED$/);
      assert.match(entries[2][0], /^Future \d+ in unexpected state: FINISHED$/);
    });
  });

  it("R4.1 setResult() on a PENDING future is allowed (PENDING → FINISHED directly)", async () => {
    const f = new Future<number[]>();
    f.setResult([1]);
    assert.equal(f.state, "FINISHED");
    assert.deepEqual(await f.result(), [1]);
    assert.match(String(f), /state=finished returned Array>$/);
  });
});

describe("Future.result() and Future.exception() (R2.2, R2.5, R4.3, R4.4, R9.3)", () => {
  it("R4.3 result(0) rejects with TimeoutError for PF/RF, CancelledError for CF/CNF, the error for EF, 42 for SF (CPython test_result_with_timeout)", async () => {
    const f = fixtures();
    await assert.rejects(f.pf.result(0), TimeoutError);
    await assert.rejects(f.rf.result(0), TimeoutError);
    await assert.rejects(f.cf.result(0), CancelledError);
    await assert.rejects(f.cnf.result(0), CancelledError);
    const failed = await settle(f.ef.result(0));
    assert.equal(failed.ok, false);
    assert.equal(!failed.ok && failed.error, f.efError);
    assert.equal(await f.sf.result(0), 42);
  });

  it("R4.3 exception(0) rejects with TimeoutError for PF/RF, CancelledError for CF/CNF, returns the error for EF and undefined for SF (CPython test_exception_with_timeout)", async () => {
    const f = fixtures();
    await assert.rejects(f.pf.exception(0), TimeoutError);
    await assert.rejects(f.rf.exception(0), TimeoutError);
    await assert.rejects(f.cf.exception(0), CancelledError);
    await assert.rejects(f.cnf.exception(0), CancelledError);
    assert.equal(await f.ef.exception(0), f.efError);
    assert.equal(await f.sf.exception(0), undefined);
  });

  it("R4.3 the CancelledError and TimeoutError have CPython's empty message and their class names", async () => {
    const f = fixtures();
    const cancelled = await settle(f.cf.result());
    assert.ok(!cancelled.ok && cancelled.error instanceof CancelledError);
    assert.ok(!cancelled.ok && cancelled.error instanceof FuturesError);
    assert.equal((cancelled as { error: Error }).error.name, "CancelledError");
    assert.equal((cancelled as { error: Error }).error.message, "");
    const timedOut = await settle(f.pf.result(0));
    assert.ok(!timedOut.ok && timedOut.error instanceof TimeoutError);
    assert.equal((timedOut as { error: Error }).error.name, "TimeoutError");
    assert.equal((timedOut as { error: Error }).error.message, "");
  });

  it("R2.2 result() resolves with a value set later (CPython test_result_with_success)", async () => {
    const f = new Future<number>();
    setTimeout(() => f.setResult(42), 20);
    assert.equal(await f.result(5000), 42);
  });

  it("R4.3 result() waiting on a future rejects with CancelledError when it is cancelled later (CPython test_result_with_cancel)", async () => {
    const f = new Future<number>();
    setTimeout(() => f.cancel(), 20);
    await assert.rejects(f.result(5000), CancelledError);
  });

  it("R4.3 exception() waiting on a future rejects with CancelledError when it is cancelled later", async () => {
    const f = new Future<number>();
    setTimeout(() => f.cancel(), 20);
    await assert.rejects(f.exception(), CancelledError);
  });

  it("R2.2 exception() resolves with an error set later, without rejecting (CPython test_exception_with_success)", async () => {
    const f = new Future<number>();
    const error = new OSError("late");
    setTimeout(() => f.setException(error), 20);
    assert.equal(await f.exception(5000), error);
  });

  it("R2.2 result() rejects with the very same error object on every call, and exception() resolves to it", async () => {
    const f = new Future<number>();
    const error = new ValueError("same");
    f.setException(error);
    for (let i = 0; i < 3; i++) {
      const outcome = await settle(f.result());
      assert.ok(!outcome.ok);
      assert.equal(outcome.error, error);
    }
    assert.equal(await f.exception(), error);
  });

  it('R2.5 a thrown non-Error (undefined, null, 0, "", false) is a failure: result() rejects with that same value', async () => {
    for (const thrown of [undefined, null, 0, "", false]) {
      const f = new Future<string>();
      f.setException(thrown);
      const outcome = await settle(f.result());
      assert.equal(outcome.ok, false, `result() must reject for ${String(thrown)}`);
      assert.ok(!outcome.ok && Object.is(outcome.error, thrown));
      assert.ok(Object.is(await f.exception(), thrown));
    }
  });

  it("R2.5 setResult(undefined) is a success: result() resolves and the repr says returned undefined", async () => {
    const f = new Future<undefined>();
    f.setResult(undefined);
    assert.equal(await f.result(), undefined);
    assert.equal(await f.exception(), undefined);
    assert.match(String(f), /state=finished returned undefined>$/);
  });

  it("R4.4 result(ms) rejects with TimeoutError after about ms and leaves the future unaffected", async () => {
    const f = new Future<string>();
    const start = performance.now();
    await assert.rejects(f.result(60), TimeoutError);
    const elapsed = performance.now() - start;
    assert.ok(elapsed >= 45 && elapsed < 5000, `timed out after ${elapsed} ms`);
    assert.equal(f.state, "PENDING");
    assert.equal(f.done(), false);
    f.setResult("later");
    assert.equal(await f.result(), "later");
  });

  it("R4.4 exception(ms) rejects with TimeoutError after about ms and leaves the future unaffected", async () => {
    const f = new Future<string>();
    f.setRunningOrNotifyCancel();
    const start = performance.now();
    await assert.rejects(f.exception(60), TimeoutError);
    const elapsed = performance.now() - start;
    assert.ok(elapsed >= 45 && elapsed < 5000, `timed out after ${elapsed} ms`);
    assert.equal(f.state, "RUNNING");
    const error = new ValueError("x");
    f.setException(error);
    assert.equal(await f.exception(), error);
  });

  it(
    "R4.4 timed-out result(ms)/exception(ms) keep nothing alive: 200,000 polls of a pending future grow the heap < 10 MiB",
    { timeout: 60_000 },
    async () => {
      const gc = fullGc();
      assert.ok(gc !== undefined, "this runtime offers a way to force a garbage collection");
      const f = new Future<number>();
      const POLLS = 200_000;
      const BATCH = 5_000; // in flight at once, so that the polls take seconds, not 200,000 timer ticks
      // 1e-9 ms is above 0, so each poll takes the timer path (0 or less would reject at once, timer-less).
      const poll = (i: number) => (i % 2 === 0 ? f.result(1e-9) : f.exception(1e-9)).then(() => false, isTimeout);
      gc();
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < POLLS; i += BATCH) {
        const polls: Promise<boolean>[] = [];
        for (let j = i; j < i + BATCH; j++) polls.push(poll(j));
        const timedOut = await Promise.all(polls);
        assert.ok(timedOut.every(Boolean), "every poll timed out");
      }
      gc();
      gc();
      const grownMiB = (process.memoryUsage().heapUsed - before) / 2 ** 20;
      assert.equal(f.state, "PENDING");
      assert.ok(grownMiB < 10, `the heap grew by ${grownMiB.toFixed(1)} MiB after ${POLLS} timed-out polls`);
      f.setResult(7);
      assert.equal(await f.result(1e-9), 7);
    },
  );

  it("R4.4 result(ms) resolves when the future finishes before the timeout", async () => {
    const f = new Future<string>();
    setTimeout(() => f.setResult("in time"), 10);
    assert.equal(await f.result(2000), "in time");
  });

  it("R9.3 a negative timeout checks once: rejects at once for a pending future, resolves for a done one", async () => {
    const f = fixtures();
    const start = performance.now();
    await assert.rejects(f.pf.result(-1), TimeoutError);
    await assert.rejects(f.rf.exception(-100), TimeoutError);
    assert.ok(performance.now() - start < 1000);
    assert.equal(await f.sf.result(-1), 42);
    assert.equal(await f.ef.exception(-5), f.efError);
  });

  it("R9.3 a NaN timeout rejects with RangeError (a rejection, not a synchronous throw)", async () => {
    const f = fixtures();
    for (const future of [f.pf, f.sf]) {
      let result: Promise<unknown> | undefined;
      let exception: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        result = future.result(NaN);
        exception = future.exception(NaN);
      });
      await assert.rejects(result!, RangeError);
      await assert.rejects(exception!, RangeError);
    }
  });

  it("R9.3 a timeout that is not a number rejects with a TypeError naming timeoutMs (pending, finished or cancelled)", async () => {
    const f = fixtures();
    const junk = ["10", 10n, Symbol("ms"), {}, Object.create(null), true, [5], () => 5];
    for (const future of [f.pf, f.sf, f.ef, f.cf]) {
      for (const timeoutMs of junk) {
        let result: Promise<unknown> | undefined;
        let exception: Promise<unknown> | undefined;
        assert.doesNotThrow(() => {
          result = future.result(timeoutMs as never);
          exception = future.exception(timeoutMs as never);
        });
        const named = (error: unknown) => error instanceof TypeError && /\btimeoutMs\b/.test(error.message);
        await assert.rejects(result!, named);
        await assert.rejects(exception!, named);
      }
    }
  });

  it("R9.3 result(Infinity) and result() wait until the future is done", async () => {
    const f = new Future<number>();
    const forever = f.result(Infinity);
    const noTimeout = f.result();
    const exception = f.exception(Infinity);
    assert.equal(await stillPendingAfter(forever, 50), true);
    assert.equal(await stillPendingAfter(noTimeout, 0), true);
    f.setResult(5);
    assert.equal(await forever, 5);
    assert.equal(await noTimeout, 5);
    assert.equal(await exception, undefined);
  });

  it("R9.3 a timeout above 2**31-1 ms does not fire early (timers overflow to about 1 ms)", async () => {
    const f = new Future<number>();
    const huge = [2 ** 31, 2 ** 31 + 5, 2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER, 1e300];
    const waits = huge.flatMap((ms) => [f.result(ms), f.exception(ms)]);
    const all = Promise.all(waits);
    assert.equal(await stillPendingAfter(all, 100), true, "a huge timeout fired early");
    f.setResult(9);
    const values = await all;
    assert.deepEqual(values, huge.flatMap(() => [9, undefined]));
  });
});

describe("Future.setResult()/setException() when done (R4.5)", () => {
  it('R4.5 setResult() on a finished future throws InvalidStateError "FINISHED: <repr>" and keeps the first result (CPython test_multiple_set_result)', async () => {
    const f = new Future<number>();
    f.setResult(1);
    assert.throws(
      () => f.setResult(2),
      (error: unknown) => {
        assert.ok(error instanceof InvalidStateError);
        assert.ok(error instanceof FuturesError);
        assert.equal(error.name, "InvalidStateError");
        assert.match(error.message, /^FINISHED: <Future at #\d+ state=finished returned number>$/);
        assert.equal(error.message, `FINISHED: ${String(f)}`);
        return true;
      },
    );
    assert.equal(await f.result(), 1);
  });

  it('R4.5 setException() on a failed future throws InvalidStateError "FINISHED: … raised ValueError" and keeps the first error (CPython test_multiple_set_exception)', async () => {
    const f = new Future<number>();
    const first = new ValueError("first");
    f.setException(first);
    assert.throws(
      () => f.setException(new Error("second")),
      (error: unknown) =>
        error instanceof InvalidStateError &&
        /^FINISHED: <Future at #\d+ state=finished raised ValueError>$/.test(error.message),
    );
    assert.equal(await f.exception(), first);
  });

  it("R4.5 setResult()/setException() on a finished future of the other kind throw InvalidStateError too", async () => {
    const ok = new Future<number>();
    ok.setResult(1);
    assert.throws(() => ok.setException(new Error("x")), InvalidStateError);
    assert.equal(await ok.result(), 1);
    const bad = new Future<number>();
    bad.setException(undefined);
    assert.throws(
      () => bad.setResult(3),
      (error: unknown) =>
        error instanceof InvalidStateError &&
        /^FINISHED: <Future at #\d+ state=finished raised undefined>$/.test(error.message),
    );
    const outcome = await settle(bad.result());
    assert.ok(!outcome.ok && outcome.error === undefined);
  });

  it("R4.5 setResult()/setException() on CANCELLED and CANCELLED_AND_NOTIFIED futures throw InvalidStateError naming the state", async () => {
    const f = fixtures();
    for (const [future, state] of [[f.cf, "CANCELLED"], [f.cnf, "CANCELLED_AND_NOTIFIED"]] as const) {
      for (const complete of [() => future.setResult(1), () => future.setException(new Error("x"))]) {
        assert.throws(complete, (error: unknown) => {
          assert.ok(error instanceof InvalidStateError);
          assert.match(error.message, new RegExp(`^${state}: <Future at #\\d+ state=cancelled>$`));
          return true;
        });
      }
      assert.equal(future.state, state);
      await assert.rejects(future.result(), CancelledError);
    }
  });

  it("R4.5 a rejected setResult() does not run the done-callbacks again", () => {
    const f = new Future<number>();
    let calls = 0;
    f.addDoneCallback(() => calls++);
    f.setResult(1);
    assert.throws(() => f.setResult(2), InvalidStateError);
    assert.throws(() => f.setException(new Error("x")), InvalidStateError);
    assert.equal(calls, 1);
  });
});

describe("Future done-callbacks (R3.1–R3.3)", () => {
  it("R3.1 callbacks run in registration order, once each, when setResult() completes the future (CPython test_done_callback_with_result)", async () => {
    const f = new Future<number>();
    const order: string[] = [];
    const seen: Promise<number>[] = [];
    f.addDoneCallback((future) => {
      assert.equal(future, f);
      assert.equal(future.done(), true);
      order.push("a");
      seen.push(future.result());
    });
    f.addDoneCallback(() => order.push("b"));
    f.addDoneCallback(() => order.push("c"));
    assert.deepEqual(order, []);
    f.setResult(5);
    assert.deepEqual(order, ["a", "b", "c"]);
    assert.equal(await seen[0], 5);
    f.cancel();
    await f.result();
    assert.deepEqual(order, ["a", "b", "c"]);
  });

  it("R3.1 callbacks run when setException() completes the future (CPython test_done_callback_with_exception)", async () => {
    const f = new Future<number>();
    let seen: Promise<unknown> | undefined;
    let calls = 0;
    f.addDoneCallback((future) => {
      calls++;
      seen = future.exception();
    });
    f.setException(new Error("test"));
    assert.equal(calls, 1);
    const error = await seen;
    assert.ok(error instanceof Error);
    assert.equal(error.message, "test");
  });

  it("R3.1 callbacks run once when cancel() cancels the future, not again on notify or a second cancel (CPython test_done_callback_with_cancel)", () => {
    const f = new Future<number>();
    const seen: boolean[] = [];
    f.addDoneCallback((future) => seen.push(future.cancelled()));
    assert.equal(f.cancel(), true);
    assert.deepEqual(seen, [true]);
    assert.equal(f.cancel(), true);
    assert.equal(f.setRunningOrNotifyCancel(), false);
    assert.equal(f.cancel(), true);
    assert.deepEqual(seen, [true]);
  });

  it("R3.1 callbacks do not run when a future only becomes RUNNING", () => {
    const f = new Future<number>();
    let calls = 0;
    f.addDoneCallback(() => calls++);
    f.setRunningOrNotifyCancel();
    assert.equal(calls, 0);
    f.setResult(1);
    assert.equal(calls, 1);
  });

  it("R3.1 a failure with a thrown undefined runs the callbacks, which see it as a failure", async () => {
    const f = new Future<number>();
    const seen: Settled<number>[] = [];
    const pending: Promise<void>[] = [];
    f.addDoneCallback((future) => {
      pending.push(settle(future.result()).then((s) => void seen.push(s)));
    });
    f.setException(undefined);
    await Promise.all(pending);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].ok, false);
  });

  it("R3.1 addDoneCallback() rejects a non-function with a TypeError naming fn, pending or done", () => {
    const done = new Future<number>();
    done.setResult(1);
    for (const f of [new Future<number>(), done]) {
      for (const bad of [undefined, null, 1, "fn", {}, Object.create(null), Symbol("fn"), 1n, [() => {}]]) {
        assert.throws(
          () => f.addDoneCallback(bad as never),
          (error: unknown) => error instanceof TypeError && /\bfn\b/.test(error.message),
        );
      }
    }
  });

  it("R3.2 addDoneCallback() on a done future calls fn at once, before it returns (CPython test_done_callback_already_successful/failed/cancelled)", async () => {
    const f = fixtures();
    for (const future of [f.sf, f.ef, f.cf, f.cnf]) {
      const calls: Future<number>[] = [];
      future.addDoneCallback((x) => calls.push(x));
      assert.deepEqual(calls, [future]);
    }
    let result: Promise<number> | undefined;
    f.sf.addDoneCallback((x) => {
      result = x.result();
    });
    assert.equal(await result, 42);
    let exception: Promise<unknown> | undefined;
    f.ef.addDoneCallback((x) => {
      exception = x.exception();
    });
    assert.equal(await exception, f.efError);
    let cancelled: boolean | undefined;
    f.cf.addDoneCallback((x) => {
      cancelled = x.cancelled();
    });
    assert.equal(cancelled, true);
  });

  it("R3.2 a callback added while the callbacks run (the future is done) runs at once", () => {
    const f = new Future<number>();
    const order: string[] = [];
    f.addDoneCallback((future) => {
      order.push("outer start");
      future.addDoneCallback(() => order.push("inner"));
      order.push("outer end");
    });
    f.addDoneCallback(() => order.push("second"));
    f.setResult(1);
    assert.deepEqual(order, ["outer start", "inner", "outer end", "second"]);
  });

  it('R3.3 a callback that throws is logged as "exception calling callback for <repr>" with the error; later callbacks still run (CPython test_done_callback_raises)', async () => {
    await withLogAsync(async (entries) => {
      const f = new Future<number>();
      const boom = new Error("doh!");
      const order: string[] = [];
      f.addDoneCallback(() => {
        order.push("raising");
        throw boom;
      });
      f.addDoneCallback(() => order.push("normal"));
      assert.doesNotThrow(() => f.setResult(5));
      assert.deepEqual(order, ["raising", "normal"]);
      assert.equal(entries.length, 1);
      assert.equal(entries[0][0], `exception calling callback for ${String(f)}`);
      assert.match(entries[0][0], /^exception calling callback for <Future at #\d+ state=finished returned number>$/);
      assert.equal(entries[0][1], boom);
      assert.equal(await f.result(), 5);
      assert.equal(f.state, "FINISHED");
    });
  });

  it('R3.3 a callback that throws on a failed future is logged with "state=finished raised NAME" and the outcome is kept', async () => {
    await withLogAsync(async (entries) => {
      const f = new Future<number>();
      const error = new ValueError("task");
      const boom = new TypeError("cb");
      let after = 0;
      f.addDoneCallback(() => {
        throw boom;
      });
      f.addDoneCallback(() => after++);
      f.setException(error);
      assert.equal(after, 1);
      assert.equal(entries.length, 1);
      assert.match(entries[0][0], /^exception calling callback for <Future at #\d+ state=finished raised ValueError>$/);
      assert.equal(entries[0][1], boom);
      assert.equal(await f.exception(), error);
    });
  });

  it('R3.3 a callback that throws on cancel() is logged with "state=cancelled" and cancel() still returns true', () => {
    withLog((entries) => {
      const f = new Future<number>();
      const boom = new Error("cb");
      let after = 0;
      f.addDoneCallback(() => {
        throw boom;
      });
      f.addDoneCallback(() => after++);
      assert.equal(f.cancel(), true);
      assert.equal(after, 1);
      assert.equal(f.cancelled(), true);
      assert.deepEqual(entries.map(([m]) => m), [`exception calling callback for ${String(f)}`]);
      assert.match(entries[0][0], /^exception calling callback for <Future at #\d+ state=cancelled>$/);
      assert.equal(entries[0][1], boom);
    });
  });

  it("R3.3 a throwing callback added to a done future is logged, not thrown (CPython test_done_callback_raises_already_succeeded)", () => {
    withLog((entries) => {
      const f = new Future<string>();
      f.setResult("done");
      const boom = new Error("late doh");
      assert.doesNotThrow(() =>
        f.addDoneCallback(() => {
          throw boom;
        })
      );
      assert.equal(entries.length, 1);
      assert.match(entries[0][0], /^exception calling callback for <Future at #\d+ state=finished returned string>$/);
      assert.equal(entries[0][1], boom);
    });
  });

  it("R3.3 a callback that throws a non-Error value (undefined, null, 0) is logged with that value", () => {
    withLog((entries) => {
      const f = new Future<number>();
      for (const thrown of [undefined, null, 0]) {
        f.addDoneCallback(() => {
          throw thrown;
        });
      }
      let last = false;
      f.addDoneCallback(() => {
        last = true;
      });
      f.setResult(1);
      assert.equal(last, true);
      assert.equal(entries.length, 3);
      assert.deepEqual(entries.map(([, e]) => e), [undefined, null, 0]);
    });
  });
});

describe("Future repr (R3.4)", () => {
  it("R3.4 repr shows state=pending, running, cancelled (CF and CNF) (CPython test_repr)", () => {
    const f = fixtures();
    assert.match(String(f.pf), /^<Future at #\d+ state=pending>$/);
    assert.match(String(f.rf), /^<Future at #\d+ state=running>$/);
    assert.match(String(f.cf), /^<Future at #\d+ state=cancelled>$/);
    assert.match(String(f.cnf), /^<Future at #\d+ state=cancelled>$/);
    assert.match(String(f.ef), /^<Future at #\d+ state=finished raised OSError>$/);
    assert.match(String(f.sf), /^<Future at #\d+ state=finished returned number>$/);
  });

  it("R3.4 each future has its own #ID, and it stays the same across states", () => {
    const a = new Future();
    const b = new Future();
    const id = (f: Future) => /#(\d+) /.exec(String(f))![1];
    assert.notEqual(id(a), id(b));
    const before = id(a);
    a.setRunningOrNotifyCancel();
    a.setResult(1);
    assert.equal(id(a), before);
  });

  it("R3.4 finished returned TYPE: typeof for primitives, null, else the constructor's name", () => {
    class Point {
      x = 1;
    }
    const cases: [unknown, string][] = [
      ["text", "string"],
      [1.5, "number"],
      [NaN, "number"],
      [true, "boolean"],
      [10n, "bigint"],
      [Symbol("s"), "symbol"],
      [undefined, "undefined"],
      [null, "null"],
      [{ a: 1 }, "Object"],
      [[1, 2], "Array"],
      [new Map(), "Map"],
      [new Set(), "Set"],
      [new Date(0), "Date"],
      [new Uint8Array(2), "Uint8Array"],
      [new Point(), "Point"],
      [new TypeError("returned, not raised"), "TypeError"],
    ];
    for (const [value, type] of cases) {
      const f = new Future<unknown>();
      f.setResult(value);
      assert.match(String(f), REPR);
      assert.equal(String(f).replace(/#\d+/, "#N"), `<Future at #N state=finished returned ${type}>`);
    }
  });

  it("R3.4 finished raised NAME: the error's name, or the TYPE rule for a thrown non-Error", () => {
    class MyError extends Error {
      static {
        this.prototype.name = "MyError";
      }
    }
    const named = new Error("x");
    named.name = "CustomName";
    const cases: [unknown, string][] = [
      [new TypeError("t"), "TypeError"],
      [new RangeError("r"), "RangeError"],
      [new MyError("m"), "MyError"],
      [named, "CustomName"],
      [new CancelledError(), "CancelledError"],
      [new AggregateError([]), "AggregateError"],
      ["thrown string", "string"],
      [42, "number"],
      [0, "number"],
      [false, "boolean"],
      [5n, "bigint"],
      [Symbol("s"), "symbol"],
      [undefined, "undefined"],
      [null, "null"],
      [{ code: 1 }, "Object"],
      [[1], "Array"],
      [new Map(), "Map"],
    ];
    for (const [thrown, name] of cases) {
      const f = new Future<unknown>();
      f.setException(thrown);
      assert.equal(String(f).replace(/#\d+/, "#N"), `<Future at #N state=finished raised ${name}>`);
    }
  });

  it("R3.4 String(future), a template literal and node:util inspect all show the repr", () => {
    const f = new Future<number>();
    const pending = String(f);
    assert.match(pending, /^<Future at #\d+ state=pending>$/);
    assert.equal(`${f}`, pending);
    assert.equal(inspect(f), pending);
    f.setResult(3);
    const finished = String(f);
    assert.match(finished, /^<Future at #\d+ state=finished returned number>$/);
    assert.equal(inspect(f), finished);
    assert.equal(inspect({ f }), `{ f: ${finished} }`);
  });
});

describe("Future as a thenable (R2.2)", () => {
  it("R2.2 await future resolves with the result, like await future.result()", async () => {
    const f = new Future<string>();
    setTimeout(() => f.setResult("awaited"), 10);
    assert.equal(await f, "awaited");
    assert.equal(await Promise.resolve(f), "awaited");
  });

  it("R2.2 await future rejects with the task's error, a thrown non-Error, or CancelledError", async () => {
    const error = new ValueError("v");
    const failed = new Future<number>();
    failed.setException(error);
    const failedOutcome = await settle(failed);
    assert.ok(!failedOutcome.ok && failedOutcome.error === error);

    const undef = new Future<number>();
    undef.setException(undefined);
    const undefOutcome = await settle(undef);
    assert.equal(undefOutcome.ok, false);
    assert.ok(!undefOutcome.ok && undefOutcome.error === undefined);

    const cancelled = new Future<number>();
    cancelled.cancel();
    await assert.rejects(Promise.resolve(cancelled), CancelledError);
  });

  it("R2.2 then() passes the outcome to its callbacks and returns a promise", async () => {
    const f = new Future<number>();
    f.setResult(2);
    const chained = f.then((v) => v * 10);
    assert.ok(chained instanceof Promise);
    assert.equal(await chained, 20);
    const bad = new Future<number>();
    const error = new Error("e");
    bad.setException(error);
    assert.equal(await bad.then(() => "no", (e) => e), error);
    // As with a Promise, a rejection handler may declare the error type it expects (tsc checks this line).
    assert.equal(await bad.then(() => "no", (e: Error) => e.message), "e");
    assert.equal(await bad.catch((e: Error) => e.message), "e");
  });

  it("R2.2 catch() and finally() act on the outcome as on result()", async () => {
    const bad = new Future<number>();
    const error = new ValueError("c");
    bad.setException(error);
    assert.equal(await bad.catch((e) => e), error);
    let ran = 0;
    const finallyOutcome = await settle(bad.finally(() => ran++));
    assert.equal(ran, 1);
    assert.ok(!finallyOutcome.ok && finallyOutcome.error === error);
    const good = new Future<number>();
    good.setResult(4);
    assert.equal(await good.catch(() => -1), 4);
    assert.equal(await good.finally(() => ran++), 4);
    assert.equal(ran, 2);
  });

  it("R2.2 awaiting a future does not change it", async () => {
    const f = new Future<number>();
    f.setResult(1);
    await f;
    await f;
    assert.equal(f.state, "FINISHED");
    assert.equal(await f.result(), 1);
  });
});

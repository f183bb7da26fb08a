// R6 with real pool futures: wait() for each return condition and with a timeout, asCompleted() with and without a
// timeout, and futures cancelled by shutdown({ cancelFutures: true }) counting as done (CPython's test_wait.py and
// test_as_completed.py, with pool futures in place of the hand-made fixtures where a pool is needed).

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  ALL_COMPLETED,
  asCompleted,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type Future,
  ProcessPoolExecutor,
  TimeoutError,
  wait,
} from "../mod.ts";
import { allWorkersUp, backends, runtime, taskModule } from "./_backends.ts";
import * as tasks from "./tasks/r6_wait.ts";

const module = taskModule("r6_wait.ts");
const LONG = { timeout: 30_000 };

interface Fixtures {
  pool: ProcessPoolExecutor;
  /** Submits a task that blocks until release(). */
  blocked(value?: string): Future<string>;
  /** Lets every blocked task finish. */
  release(): void;
  /** A future that will hold 42 (CPython's SUCCESSFUL_FUTURE), once ready() resolved. */
  successful(): Future<number>;
  /** A future that will hold an error (EXCEPTION_FUTURE), once ready() resolved. */
  failed(): Future<[number, number]>;
  /** A pending future the caller cancelled (CANCELLED_FUTURE). */
  cancelled(): Future<number>;
  /** A cancelled future that the pool will have dequeued (CANCELLED_AND_NOTIFIED_FUTURE) once ready() resolved. */
  cancelledAndSeen(): Future<number>;
  /** Resolves once every fixture made so far is in its final state. */
  ready(): Promise<void>;
}

// Runs `body` with a fresh pool and fixtures; releases blocked tasks and shuts the pool down afterwards.
// (The fixtures are returned bare and awaited through ready(): a Future is a thenable, so an async function
// that returned one would resolve to its result instead.)
async function withPool(
  backend: (typeof backends)[number],
  maxWorkers: number,
  body: (f: Fixtures) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "procpool-r6-"));
  const gate = join(dir, "release");
  const pool = new ProcessPoolExecutor({ module, maxWorkers, backend });
  const settling: Future<unknown>[] = [];
  const fixtures: Fixtures = {
    pool,
    blocked: (value = "blocked") => pool.submit(tasks.blockUntil<string>, gate, value),
    release: () => writeFileSync(gate, "go"),
    successful() {
      const f = pool.submit(tasks.mul, 2, 21);
      settling.push(f);
      return f;
    },
    failed() {
      const f = pool.submit(tasks.divmod, 1, 0);
      settling.push(f);
      return f;
    },
    cancelled() {
      const f = pool.submit(tasks.mul, 1, 1);
      assert.equal(f.cancel(), true);
      return f;
    },
    cancelledAndSeen() {
      const f = pool.submit(tasks.mul, 1, 1);
      assert.equal(f.cancel(), true);
      settling.push(pool.submit(tasks.mul, 1, 1)); // dispatched after f, so the pool has dequeued f by then
      return f;
    },
    async ready() {
      for (const f of settling) await f.exception();
    },
  };
  try {
    await body(fixtures);
  } finally {
    fixtures.release();
    await pool.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function sameSet(actual: Set<unknown>, expected: unknown[], what: string): void {
  assert.equal(actual.size, expected.length, `${what}: size`);
  for (const x of expected) assert.ok(actual.has(x), `${what}: missing ${x}`);
}

async function collectUntilError<T>(iterable: AsyncIterable<T>): Promise<{ values: T[]; error: unknown }> {
  const values: T[] = [];
  try {
    for await (const x of iterable) values.push(x);
  } catch (error) {
    return { values, error };
  }
  return { values, error: undefined };
}

for (const backend of backends) {
  describe(`R6 wait and asCompleted over pool futures (${runtime}, ${backend})`, () => {
    it("R6.1 wait() collapses duplicates: wait([f, f]) is done = {f} (CPython test_20369)", LONG, async () => {
      await withPool(backend, 1, async ({ pool }) => {
        const f = pool.submit(tasks.nap, 50, "x");
        const { done, notDone } = await wait([f, f]);
        sameSet(done, [f], "done");
        sameSet(notDone, [], "notDone");
      });
    });

    it(
      "R6.1 FIRST_COMPLETED resolves at the first completion; a cancelled future already counts (test_first_completed)",
      LONG,
      async () => {
        await withPool(backend, 2, async (fx) => {
          // CPython's order: the quick task first, then the one that blocks.
          const fast = fx.pool.submit(tasks.nap, 100, "fast");
          const slow = fx.blocked();
          const r1 = await wait([fast, slow], { returnWhen: FIRST_COMPLETED, timeout: 10_000 });
          sameSet(r1.done, [fast], "done");
          sameSet(r1.notDone, [slow], "notDone");

          // CPython leaves a merely cancelled future out of done and waits for `fast`; procpool (R6.3) counts it.
          const cf = fx.cancelled();
          const fast2 = fx.pool.submit(tasks.nap, 800, "fast2");
          const started = Date.now();
          const r2 = await wait([cf, fast2, slow], { returnWhen: FIRST_COMPLETED });
          assert.ok(Date.now() - started < 600, "returned at once");
          sameSet(r2.done, [cf], "done");
          sameSet(r2.notDone, [fast2, slow], "notDone");
          fast2.cancel();
        });
      },
    );

    it(
      "R6.1 FIRST_COMPLETED returns at once when some are already done (test_first_completed_some_already_completed)",
      LONG,
      async () => {
        await withPool(backend, 1, async (fx) => {
          const cnf = fx.cancelledAndSeen();
          const sf = fx.successful();
          await fx.ready();
          const slow = fx.blocked();
          const started = Date.now();
          const { done, notDone } = await wait([cnf, sf, slow], { returnWhen: FIRST_COMPLETED });
          assert.ok(Date.now() - started < 500, "returned at once");
          sameSet(done, [cnf, sf], "done");
          sameSet(notDone, [slow], "notDone");
        });
      },
    );

    it("R6.1 FIRST_EXCEPTION resolves when a pool task fails (test_first_exception)", LONG, async () => {
      await withPool(backend, 3, async (fx) => {
        // All three workers running first: a worker that starts 300 ms later than another (a loaded machine)
        // would otherwise still owe f1's result when f2 fails.
        await allWorkersUp(fx.pool, 3);
        const f1 = fx.pool.submit(tasks.mul, 2, 21);
        const f2 = fx.pool.submit(tasks.failAfter, 300, "boom");
        const f3 = fx.blocked();
        const { done, notDone } = await wait([f1, f2, f3], { returnWhen: FIRST_EXCEPTION, timeout: 10_000 });
        sameSet(done, [f1, f2], "done");
        sameSet(notDone, [f3], "notDone");
        assert.equal(((await f2.exception()) as Error).message, "boom");
      });
    });

    it(
      "R6.1 FIRST_EXCEPTION with some futures already complete: cancelled ones are done but do not trigger it (test_first_exception_some_already_complete)",
      LONG,
      async () => {
        await withPool(backend, 2, async (fx) => {
          const sf = fx.successful();
          const cf = fx.cancelled();
          const cnf = fx.cancelledAndSeen();
          await fx.ready();
          const failing = fx.pool.submit(tasks.divmod, 21, 0);
          const blocked = fx.blocked();
          const { done, notDone } = await wait([sf, cf, cnf, failing, blocked], {
            returnWhen: FIRST_EXCEPTION,
            timeout: 10_000,
          });
          // CPython: done = {SF, CNF, failing}, CF not done; procpool (R6.3) counts CF as done too.
          sameSet(done, [sf, cf, cnf, failing], "done");
          sameSet(notDone, [blocked], "notDone");
          assert.ok((await failing.exception()) instanceof tasks.ZeroDivisionError);
        });
      },
    );

    it(
      "R6.1 FIRST_EXCEPTION returns at once when one already failed (test_first_exception_one_already_failed)",
      LONG,
      async () => {
        await withPool(backend, 1, async (fx) => {
          const ef = fx.failed();
          await fx.ready();
          const blocked = fx.blocked();
          const started = Date.now();
          const { done, notDone } = await wait([ef, blocked], { returnWhen: FIRST_EXCEPTION });
          assert.ok(Date.now() - started < 500, "returned at once");
          sameSet(done, [ef], "done");
          sameSet(notDone, [blocked], "notDone");
        });
      },
    );

    it("R6.1 FIRST_EXCEPTION with no failure waits for all, like ALL_COMPLETED", LONG, async () => {
      await withPool(backend, 2, async ({ pool }) => {
        const a = pool.submit(tasks.nap, 100, "a");
        const b = pool.submit(tasks.nap, 300, "b");
        const { done, notDone } = await wait([a, b], { returnWhen: FIRST_EXCEPTION });
        sameSet(done, [a, b], "done");
        sameSet(notDone, [], "notDone");
      });
    });

    it(
      "R6.1 ALL_COMPLETED waits for every pool future, failed and cancelled ones included (test_all_completed)",
      LONG,
      async () => {
        await withPool(backend, 2, async (fx) => {
          const sf = fx.successful();
          const cnf = fx.cancelledAndSeen();
          const ef = fx.failed();
          await fx.ready();
          const failing = fx.pool.submit(tasks.divmod, 2, 0);
          const product = fx.pool.submit(tasks.mul, 2, 21);
          const { done, notDone } = await wait([sf, cnf, ef, failing, product], { returnWhen: ALL_COMPLETED });
          sameSet(done, [sf, cnf, ef, failing, product], "done");
          sameSet(notDone, [], "notDone");
          assert.equal(await product, 42);
        });
      },
    );

    it(
      "R6.1 wait() with a timeout resolves with what is done by then and never rejects (test_timeout)",
      LONG,
      async () => {
        await withPool(backend, 1, async (fx) => {
          const cnf = fx.cancelledAndSeen();
          const ef = fx.failed();
          const sf = fx.successful();
          await fx.ready();
          const blocked = fx.blocked();
          const started = Date.now();
          const { done, notDone } = await wait([cnf, ef, sf, blocked], { timeout: 150, returnWhen: ALL_COMPLETED });
          const waited = Date.now() - started;
          assert.ok(waited >= 140 && waited < 2_000, `waited ${waited} ms for a 150 ms timeout`);
          sameSet(done, [cnf, ef, sf], "done");
          sameSet(notDone, [blocked], "notDone");
          assert.equal(blocked.done(), false);
        });
      },
    );

    it("R6.2 asCompleted() yields each pool future once (test_no_timeout)", LONG, async () => {
      await withPool(backend, 2, async (fx) => {
        const cnf = fx.cancelledAndSeen();
        const ef = fx.failed();
        const sf = fx.successful();
        await fx.ready();
        const f1 = fx.pool.submit(tasks.nap, 100, "f1");
        const f2 = fx.pool.submit(tasks.nap, 200, "f2");
        const yielded: unknown[] = [];
        for await (const f of asCompleted([cnf, ef, sf, f1, f2])) {
          assert.ok(f.done(), "a yielded future is done");
          yielded.push(f);
        }
        sameSet(new Set(yielded), [cnf, ef, sf, f1, f2], "yielded");
        assert.equal(yielded.length, 5);
      });
    });

    it(
      'R6.2 asCompleted() yields the finished ones, then throws "1 (of 4) futures unfinished" (test_future_times_out)',
      LONG,
      async () => {
        await withPool(backend, 1, async (fx) => {
          const cnf = fx.cancelledAndSeen();
          const ef = fx.failed();
          const sf = fx.successful();
          await fx.ready();
          const blocked = fx.blocked();
          for (const timeout of [0, 100]) {
            const { values, error } = await collectUntilError(asCompleted([cnf, ef, sf, blocked], { timeout }));
            sameSet(new Set(values), [cnf, ef, sf], `yielded with timeout ${timeout}`);
            assert.ok(error instanceof TimeoutError, `timeout ${timeout}: expected TimeoutError, got ${error}`);
            assert.equal(error.message, "1 (of 4) futures unfinished");
          }
        });
      },
    );

    it("R6.2 asCompleted() yields a duplicated pool future once (test_duplicate_futures)", LONG, async () => {
      await withPool(backend, 1, async ({ pool }) => {
        const f = pool.submit(tasks.nap, 100, "once");
        function* thrice() {
          yield f;
          yield f;
          yield f;
        }
        const yielded: unknown[] = [];
        for await (const x of asCompleted(thrice())) yielded.push(x);
        assert.deepEqual(yielded, [f]);
      });
    });

    it(
      'R6.2 asCompleted() timeout message counts pending and running pool futures: "2 (of 4) futures unfinished" (test_correct_timeout_exception_msg)',
      LONG,
      async () => {
        await withPool(backend, 1, async (fx) => {
          const cnf = fx.cancelledAndSeen();
          const sf = fx.successful();
          await fx.ready();
          const rf = fx.blocked("running");
          fx.blocked("running too"); // fills the dispatch window of the one worker
          const pf = fx.blocked("pending");
          await until(() => rf.running(), 10_000, "the blocked task to run");
          const { values, error } = await collectUntilError(asCompleted([cnf, pf, rf, sf], { timeout: 0 }));
          sameSet(new Set(values), [cnf, sf], "yielded");
          assert.ok(error instanceof TimeoutError);
          assert.equal(error.message, "2 (of 4) futures unfinished");
        });
      },
    );

    it("R6.2 asCompleted() yields pool futures in the order they finish", LONG, async () => {
      await withPool(backend, 3, async ({ pool }) => {
        const futures = [pool.submit(tasks.stamp, 400), pool.submit(tasks.stamp, 0), pool.submit(tasks.stamp, 200)];
        const ends: number[] = [];
        for await (const f of asCompleted(futures)) ends.push(await f.result());
        assert.equal(ends.length, 3);
        for (let i = 1; i < ends.length; i++) {
          assert.ok(ends[i - 1] <= ends[i], `yielded out of completion order: ${ends}`);
        }
      });
    });

    it(
      "R6.3 futures cancelled by shutdown({ cancelFutures: true }) count as done for wait and asCompleted",
      LONG,
      async () => {
        await withPool(backend, 1, async (fx) => {
          const futures = Array.from({ length: 6 }, (_, i) => fx.blocked(`b${i}`));
          await until(() => futures[0].running(), 10_000, "the first blocked task to run");
          const shutdown = fx.pool.shutdown({ cancelFutures: true });
          const cancelled = futures.filter((f) => f.cancelled());
          const running = futures.filter((f) => !f.cancelled());
          assert.ok(cancelled.length >= 3, `expected most to be cancelled, got ${cancelled.length} of 6`);
          assert.ok(running.length >= 1 && running.every((f) => f.running()));

          let started = Date.now();
          const all = await wait(cancelled, { timeout: 5_000 });
          assert.ok(Date.now() - started < 1_000, "wait() did not hang on the cancelled futures");
          sameSet(all.done, cancelled, "done");

          const first = await wait(futures, { returnWhen: FIRST_COMPLETED, timeout: 5_000 });
          sameSet(first.done, cancelled, "FIRST_COMPLETED done");
          sameSet(first.notDone, running, "FIRST_COMPLETED notDone");

          started = Date.now();
          const yielded: unknown[] = [];
          for await (const f of asCompleted(cancelled, { timeout: 5_000 })) yielded.push(f);
          assert.ok(Date.now() - started < 1_000, "asCompleted() did not wait for the cancelled futures");
          sameSet(new Set(yielded), cancelled, "asCompleted yielded");

          const { values, error } = await collectUntilError(asCompleted(futures, { timeout: 100 }));
          sameSet(new Set(values), cancelled, "yielded before the timeout");
          assert.ok(error instanceof TimeoutError);
          assert.equal(error.message, `${running.length} (of 6) futures unfinished`);

          fx.release();
          await shutdown;
          const last = await wait(futures, { timeout: 0 });
          sameSet(last.done, futures, "everything done after shutdown");
        });
      },
    );

    it(
      "R6.3 a pending pool future cancelled by the caller counts as done for wait(ALL_COMPLETED) at once",
      LONG,
      async () => {
        await withPool(backend, 1, async (fx) => {
          fx.blocked();
          fx.blocked();
          const pending = fx.blocked("pending");
          assert.equal(pending.cancel(), true);
          const started = Date.now();
          const { done, notDone } = await wait([pending], { timeout: 5_000 });
          assert.ok(Date.now() - started < 1_000);
          sameSet(done, [pending], "done");
          sameSet(notDone, [], "notDone");
        });
      },
    );
  });
}

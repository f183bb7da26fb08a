// R4 with real pools: the future state machine as a pool drives it, the dispatch window, cancel, and timeouts.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CancelledError, type Future, ProcessPoolExecutor, TimeoutError } from "../mod.ts";
import { backends, runtime, taskModule } from "./_backends.ts";
import * as tasks from "./tasks/r4_states.ts";

const module = taskModule("r4_states.ts");
const LONG = { timeout: 30_000 };

// Polls `condition` every few milliseconds; fails the test if it does not hold within `ms`.
async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "procpool-r4-"));
}

for (const backend of backends) {
  describe(`R4 future states with a real pool (${runtime}, ${backend})`, () => {
    it("R4.1 a pool future goes PENDING → RUNNING → FINISHED, and its predicates follow", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const seen: string[] = [];
      const future = pool.submit(tasks.nap, 400, "v");
      future.addDoneCallback((f) => seen.push(f.state));
      assert.equal(future.state, "PENDING");
      assert.deepEqual([future.running(), future.done(), future.cancelled()], [false, false, false]);

      await until(() => future.running(), 10_000, "the future to be RUNNING");
      assert.equal(future.state, "RUNNING");
      assert.deepEqual([future.done(), future.cancelled()], [false, false]);
      assert.deepEqual(seen, [], "no callback before the future finishes");

      assert.equal(await future.result(), "v");
      assert.equal(future.state, "FINISHED");
      assert.deepEqual([future.running(), future.done(), future.cancelled()], [false, true, false]);
      assert.deepEqual(seen, ["FINISHED"]);
    });

    it(
      "R4.1 with one worker and ten queued 400 ms tasks the tenth stays PENDING, cancel() takes it back and it never runs",
      LONG,
      async () => {
        const dir = tempDir();
        try {
          const futures: Future<string>[] = [];
          {
            await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
            for (let i = 0; i < 10; i++) futures.push(pool.submit(tasks.markAndNap, dir, `t${i}`, 400));
            await until(() => futures[0].running(), 10_000, "the first future to be RUNNING");

            // CPython hands at most max_workers + 1 calls out (≤ 3 running with one worker); procpool about two.
            const running = futures.filter((f) => f.running()).length;
            assert.ok(running >= 1 && running <= 3, `expected 1–3 RUNNING futures, got ${running}`);
            assert.equal(futures[9].state, "PENDING");
            assert.equal(futures[0].cancel(), false, "a running future cannot be cancelled");
            assert.equal(futures[0].state, "RUNNING");
            assert.equal(futures[9].cancel(), true, "a pending future can be cancelled");
            assert.equal(futures[9].cancelled(), true);
            assert.equal(futures[9].done(), true);
          } // shutdown: the other nine run to completion

          for (let i = 0; i < 9; i++) {
            assert.equal(await futures[i].result(), `t${i}`);
            assert.ok(existsSync(join(dir, `t${i}`)), `task ${i} ran`);
          }
          assert.equal(existsSync(join(dir, "t9")), false, "the cancelled tenth task never ran");
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );

    it(
      "R4.1 after tiny tasks widened the window, slow tasks narrow it again so queued ones stay cancellable",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const flood: Future<number>[] = [];
        for (let i = 0; i < 3000; i++) flood.push(pool.submit(tasks.double, i));
        for (const f of flood) await f;
        // Two slow tasks teach the pool that tasks are slow now.
        await Promise.all([pool.submit(tasks.nap, 150, 0), pool.submit(tasks.nap, 150, 0)]);

        const slow: Future<unknown>[] = [];
        for (let i = 0; i < 10; i++) slow.push(pool.submit(tasks.nap, 200, i));
        await until(() => slow[0].running(), 10_000, "the first slow future to be RUNNING");
        const running = slow.filter((f) => f.running()).length;
        assert.ok(running <= 3, `expected at most 3 RUNNING slow futures, got ${running}`);
        assert.equal(slow[9].cancel(), true);
        for (let i = 3; i < 9; i++) assert.equal(slow[i].cancel(), true, `slow[${i}] was still pending`);
      },
    );

    it(
      "R4.1 a task submitted behind a blocked one on a 2-worker pool is not queued behind it while a second worker may start",
      LONG,
      async () => {
        const dir = tempDir();
        const gate = join(dir, "release");
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        try {
          const blocked = pool.submit(tasks.blockUntil<string>, gate, "blocked");
          const quick = pool.submit(tasks.nap, 50, "quick");
          // CPython starts a second worker for `quick`; handing it to the busy first worker would only make it
          // wait, which the dispatch window promises not to do ("only as many as keep the workers busy").
          // `blocked` never ends before the test releases it, so a generous bound loses nothing: queued behind it,
          // `quick` would time out whatever the bound (a loaded machine can take seconds to start a worker).
          assert.equal(await quick.result(20_000), "quick");
          assert.equal(blocked.running(), true);
        } finally {
          writeFileSync(gate, "go");
          await pool.shutdown();
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );

    it(
      "R4.1 no task waits for a worker that is still starting while another worker is ready",
      LONG,
      async () => {
        const dir = tempDir();
        const pool = new ProcessPoolExecutor({
          module,
          maxWorkers: 2,
          backend,
          initializer: tasks.firstWorkerWaits,
          initArgs: [dir],
        });
        try {
          // One worker cannot finish starting until the test lets it: every task must go to the other one, as
          // CPython's workers take calls from one shared queue. No timing involved: a task handed to the slow
          // worker would wait for the release, which comes only after these assertions.
          const futures = [1, 2, 3, 4, 5].map((x) => pool.submit(tasks.double, x));
          assert.deepEqual(await Promise.all(futures.map((f) => f.result(20_000))), [2, 4, 6, 8, 10]);
          assert.equal(existsSync(join(dir, "first")), true, "one worker was slow to start");
        } finally {
          writeFileSync(join(dir, "release"), "go");
          await pool.shutdown();
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );

    it(
      "R4.2 cancel() of a pending pool future returns true, again true when repeated, and runs callbacks once",
      LONG,
      async () => {
        const dir = tempDir();
        try {
          const calls: string[] = [];
          let future: Future<string>;
          {
            await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
            const blocker = pool.submit(tasks.nap, 300, "blocker");
            future = pool.submit(tasks.markAndNap, dir, "cancelled", 0);
            future.addDoneCallback((f) => calls.push(f.state));
            assert.equal(future.cancel(), true);
            assert.equal(future.cancel(), true, "cancel of a cancelled future is true again");
            assert.equal(future.cancelled(), true);
            assert.equal(future.running(), false);
            assert.equal(future.done(), true);
            assert.equal(calls.length, 1, "callbacks ran once");
            assert.match(calls[0], /^CANCELLED/);
            assert.equal(await blocker, "blocker");
            assert.equal(blocker.cancel(), false, "a finished future cannot be cancelled");
            assert.equal(blocker.state, "FINISHED");
          }
          assert.equal(future.cancel(), true, "still true after the pool saw it");
          assert.equal(calls.length, 1, "callbacks still ran only once");
          assert.equal(existsSync(join(dir, "cancelled")), false, "the cancelled task never ran");
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );

    it("R4.3 result() and exception() of a cancelled pool future reject with CancelledError", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const blocker = pool.submit(tasks.nap, 200, 1);
      const future = pool.submit(tasks.nap, 0, 2);
      const waiting = future.result(); // a waiter that was already blocked when the cancel came
      assert.equal(future.cancel(), true);
      await assert.rejects(waiting, CancelledError);
      await assert.rejects(future.result(), CancelledError);
      await assert.rejects(future.exception(), CancelledError);
      await assert.rejects(future.result(0), CancelledError, "cancelled wins over a zero timeout");
      await assert.rejects(future.exception(1000), CancelledError);
      await assert.rejects(Promise.resolve(future), CancelledError, "await future rejects too");
      assert.equal(await blocker, 1);
    });

    it(
      "R4.4 result(t) and exception(t) reject with TimeoutError and leave the future running to completion",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const future = pool.submit(tasks.nap, 700, "late");
        const started = Date.now();
        await assert.rejects(future.result(100), TimeoutError);
        const waited = Date.now() - started;
        assert.ok(waited >= 90, `result(100) gave up after only ${waited} ms`);
        assert.equal(future.done(), false, "the timeout did not change the future");
        assert.equal(future.cancelled(), false);
        await assert.rejects(future.exception(50), TimeoutError);
        await assert.rejects(future.result(0), TimeoutError, "a zero timeout checks once");
        assert.equal(future.done(), false);
        assert.equal(await future.result(5_000), "late", "the future later completes normally");
        assert.equal(await future.exception(0), undefined);
        assert.equal(future.state, "FINISHED");
      },
    );

    it("R4.1 a flood of 20 000 tiny tasks all completes with the right results", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      const futures: Future<number>[] = [];
      for (let i = 0; i < 20_000; i++) futures.push(pool.submit(tasks.double, i));
      let sum = 0;
      for (let i = 0; i < futures.length; i++) {
        const value = await futures[i];
        if (value !== i * 2) assert.fail(`future ${i} returned ${value}`);
        sum += value;
      }
      assert.equal(sum, 19_999 * 20_000);
      assert.ok(futures.every((f) => f.state === "FINISHED"));
    });
  });
}

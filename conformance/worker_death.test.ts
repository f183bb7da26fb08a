// R8 with real pools: a worker that dies — by exit, kill, an uncaught error or rejection outside any task, busy or
// idle — breaks the pool promptly, and the error says which worker died and how (reference H, scenarios 26, 30,
// 75, 77). OOM is not covered: the pool API offers no way to start a worker with a small heap.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import process from "node:process";
import { describe, it } from "node:test";
import { BrokenProcessPool, type Future, ProcessPoolExecutor, WorkerExitError } from "../mod.ts";
import { allWorkersUp, backends, runtime, taskModule } from "./_backends.ts";
import * as r8 from "./tasks/r8_death.ts";

const module = taskModule("r8_death.ts");
const LONG = { timeout: 30_000 };
const BROKEN_FUTURE = "A process in the process pool was terminated abruptly while the future was running or pending.";
const BROKEN_SUBMIT = "A child process terminated abruptly, the process pool is not usable anymore";
// "Well under a second" (R8.1), with room for a loaded two-core machine.
const PROMPT_MS = 1_000;

const EXIT_CALL = { process: "process.exit(3)", deno: "Deno.exit(3)" } as const;

type Who = Awaited<ReturnType<typeof r8.whoAmI>>;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// The id a WorkerExitError gives for this worker: the pid of a process, the thread id of a thread.
function idOf(who: Who, backend: string): number {
  return backend === "process" ? who.pid : who.threadId;
}

// Asserts that `cause` says which worker died and how; returns it.
function assertCause(
  cause: unknown,
  backend: string,
  how: { code?: number | "any"; signal?: string },
  ids?: Iterable<number>,
): WorkerExitError {
  assert.ok(cause instanceof WorkerExitError, `cause should be a WorkerExitError, got ${String(cause)}`);
  assert.equal(cause.name, "WorkerExitError");
  if (ids !== undefined) assert.ok(new Set(ids).has(cause.workerId), `unknown worker ${cause.workerId}`);
  const name = `${runtime}-${backend}`;
  if (how.signal !== undefined) {
    assert.equal(cause.signal, how.signal);
    assert.equal(cause.code, null);
    assert.equal(cause.message, `worker ${cause.workerId} (${name}) was killed by ${how.signal}`);
  } else {
    assert.equal(cause.signal, null);
    if (how.code !== "any") assert.equal(cause.code, how.code);
    assert.equal(typeof cause.code, "number");
    assert.equal(cause.message, `worker ${cause.workerId} (${name}) exited with code ${cause.code}`);
  }
  return cause;
}

async function brokenError<T>(future: Future<T>): Promise<BrokenProcessPool> {
  // A bounded wait, so that a pool that never notices the death fails here with TimeoutError, not by hanging.
  const error = await future.exception(10_000);
  assert.ok(error instanceof BrokenProcessPool, `expected BrokenProcessPool, got ${String(error)}`);
  assert.equal(error.message, BROKEN_FUTURE);
  return error;
}

function assertSubmitThrows(pool: ProcessPoolExecutor): BrokenProcessPool {
  let thrown: unknown;
  assert.throws(() => pool.submit(r8.double, 1), (error) => {
    thrown = error;
    return error instanceof BrokenProcessPool && error.message === BROKEN_SUBMIT;
  });
  return thrown as BrokenProcessPool;
}

// Whether the pool is broken, without handing any work to a worker: a broken pool's submit throws; an open
// pool's submit of an argument that cannot be sent fails only that future, before any dispatch (R2.6).
function isBroken(pool: ProcessPoolExecutor): boolean {
  try {
    pool.submit(r8.double, Symbol("probe") as unknown as number);
    return false;
  } catch (error) {
    assert.ok(error instanceof BrokenProcessPool, String(error));
    return true;
  }
}

async function waitUntilBroken(pool: ProcessPoolExecutor, ms = 10_000): Promise<number> {
  const end = Date.now() + ms;
  while (!isBroken(pool)) {
    assert.ok(Date.now() < end, `the pool did not break within ${ms} ms`);
    await delay(2);
  }
  return Date.now();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    assert.equal((error as { code?: string }).code, "ESRCH");
    return false;
  }
}

// After shutdown: no worker process is left. Thread workers live in this process, so there is none to outlive it.
function assertNoChildLeft(workers: Iterable<Who>, backend: string): void {
  for (const who of workers) {
    if (backend === "process") {
      assert.notEqual(who.pid, process.pid);
      assert.throws(() => process.kill(who.pid, 0), { code: "ESRCH" }, `worker process ${who.pid} is still alive`);
    } else {
      assert.equal(who.pid, process.pid);
      assert.equal(who.isMainThread, false);
    }
  }
}

for (const backend of backends) {
  describe(`R8 worker death (${runtime}, ${backend})`, () => {
    const exits = runtime === "deno" ? ["process", "deno"] as const : ["process"] as const;
    for (const how of exits) {
      it(
        "R8.1 a task that calls " + EXIT_CALL[how] +
          " breaks the pool promptly; unfinished futures fail, finished keep theirs",
        LONG,
        async () => {
          const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
          const workers: Who[] = [];
          try {
            // Both workers up first (a task never waits for a worker still starting, so on a busy machine one
            // worker could run all four tasks), then four slow-ish tasks on both; they finish before the crash and
            // must keep their results.
            await allWorkersUp(pool, 2);
            const finished = Array.from({ length: 4 }, () => pool.submit(r8.whoAmILater, 50));
            for (const f of finished) workers.push(await f.result());
            const ids = workers.map((w) => idOf(w, backend));

            const started = Date.now();
            const crash = pool.submit(r8.exitNow, 3, how);
            const unfinished = Array.from({ length: 4 }, () => pool.submit(r8.nap, 3_000));
            const callbacks = unfinished.map(() => 0);
            unfinished.forEach((f, i) => f.addDoneCallback(() => callbacks[i]++));

            const error = await brokenError(crash);
            assert.ok(Date.now() - started < PROMPT_MS, `broken after ${Date.now() - started} ms`);
            const cause = assertCause(error.cause, backend, { code: 3 }, ids);
            for (const f of unfinished) {
              const other = await brokenError(f);
              assert.equal(other.cause, cause, "every failed future names the same dead worker");
            }
            assert.deepEqual(callbacks, [1, 1, 1, 1]);
            for (const [i, f] of finished.entries()) assert.deepEqual(await f.result(), workers[i]);
            assertCause(assertSubmitThrows(pool).cause, backend, { code: 3 }, ids);
            if (backend === "process") {
              // Reference 37: the break itself ends the other workers, before any shutdown().
              const end = Date.now() + 5_000;
              while (workers.some((w) => isAlive(w.pid))) {
                assert.ok(Date.now() < end, "a worker of the broken pool is still alive");
                await delay(10);
              }
            }
          } finally {
            await pool.shutdown();
          }
          assertSubmitThrows(pool);
          assertNoChildLeft(workers, backend);
        },
      );
    }

    // A thread cannot be killed from outside (a signal would reach this whole process): on the worker backend the
    // nearest case is a thread that ends itself mid-task with code 0, which must count as a crash too.
    const kills = backend === "process" ? ["SIGKILL", "SIGTERM"] : ["(thread ends itself)"];
    for (const signal of kills) {
      it(
        backend === "process"
          ? `R8.1 a worker killed mid-task by ${signal} breaks the pool promptly`
          : "R8.1 a thread worker that ends itself mid-task with code 0 breaks the pool promptly",
        LONG,
        async () => {
          const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
          const workers: Who[] = [];
          try {
            const who = await pool.submit(r8.whoAmI).result();
            workers.push(who);
            if (backend === "process") {
              // CPython test_killed_child: a long task, then the worker is killed from outside.
              const victim = pool.submit(r8.nap, 5_000);
              const queued = pool.submit(r8.nap, 5_000);
              while (!victim.running()) await delay(5);
              await delay(100);
              const started = Date.now();
              process.kill(who.pid, signal);
              const error = await brokenError(victim);
              assert.ok(Date.now() - started < PROMPT_MS, `broken after ${Date.now() - started} ms`);
              assertCause(error.cause, backend, { signal }, [who.pid]);
              await brokenError(queued);
            } else {
              const started = Date.now();
              const error = await brokenError(pool.submit(r8.exitNow, 0));
              assert.ok(Date.now() - started < PROMPT_MS, `broken after ${Date.now() - started} ms`);
              assertCause(error.cause, backend, { code: 0 }, [who.threadId]);
            }
            assertSubmitThrows(pool);
          } finally {
            await pool.shutdown();
          }
          assertNoChildLeft(workers, backend);
        },
      );
    }

    it("R8.1 an uncaught exception thrown outside any task kills the worker and breaks the pool", LONG, async () => {
      const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const workers: Who[] = [];
      try {
        const who = await pool.submit(r8.whoAmI).result();
        workers.push(who);
        const returned = pool.submit(r8.throwLater, 100);
        assert.equal(await returned.result(), 1);
        const deathAt = Date.now() + 100;
        // An async task, so that the worker's timers still run and the late throw happens while it is busy.
        const running = pool.submit(r8.nap, 3_000);
        const error = await brokenError(running);
        assert.ok(Date.now() - deathAt < PROMPT_MS, `broken ${Date.now() - deathAt} ms after the throw`);
        // Node and Deno end the worker with code 1; a Bun thread may end with code 0. Either way it is reported.
        const code = runtime === "bun" ? "any" : 1;
        assertCause(error.cause, backend, { code }, [idOf(who, backend)]);
        assert.equal(await returned.result(), 1, "the finished task keeps its result");
        assertSubmitThrows(pool);
      } finally {
        await pool.shutdown();
      }
      assertNoChildLeft(workers, backend);
    });

    it("R8.1 an unhandled rejection outside any task kills the worker and breaks the pool", LONG, async () => {
      const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const workers: Who[] = [];
      try {
        const who = await pool.submit(r8.whoAmI).result();
        workers.push(who);
        const returned = pool.submit(r8.rejectLater, 100);
        assert.equal(await returned.result(), 1);
        const deathAt = Date.now() + 100;
        const running = pool.submit(r8.nap, 3_000);
        const error = await brokenError(running);
        assert.ok(Date.now() - deathAt < PROMPT_MS, `broken ${Date.now() - deathAt} ms after the rejection`);
        // Node and Deno end the worker with code 1; a Bun thread ends with code 0. Either way it is reported.
        const code = runtime === "bun" ? "any" : 1;
        assertCause(error.cause, backend, { code }, [idOf(who, backend)]);
        assert.equal(await returned.result(), 1);
        assertSubmitThrows(pool);
      } finally {
        await pool.shutdown();
      }
      assertNoChildLeft(workers, backend);
    });

    it(
      "R8.3 an idle worker that exits on its own, even with code 0, breaks the pool promptly (reference 38)",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        const workers: Who[] = [];
        try {
          const who = await pool.submit(r8.whoAmI).result();
          workers.push(who);
          const exitAt = await pool.submit(r8.exitLater, 0, 100).result();
          assert.equal(isBroken(pool), false, "not broken before the worker exits");
          const brokenAt = await waitUntilBroken(pool);
          assert.ok(brokenAt - exitAt < PROMPT_MS, `noticed ${brokenAt - exitAt} ms after the exit`);
          assertCause(assertSubmitThrows(pool).cause, backend, { code: 0 }, [idOf(who, backend)]);
        } finally {
          await pool.shutdown();
        }
        assertNoChildLeft(workers, backend);
      },
    );

    it(
      "R8.3 an idle worker killed from outside breaks the pool promptly (threads: only a process can be killed)",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const workers: Who[] = [];
        try {
          const who = await pool.submit(r8.whoAmI).result();
          workers.push(who);
          if (backend === "process") {
            await delay(50);
            const killedAt = Date.now();
            process.kill(who.pid, "SIGKILL");
            const brokenAt = await waitUntilBroken(pool);
            assert.ok(brokenAt - killedAt < PROMPT_MS, `noticed ${brokenAt - killedAt} ms after the kill`);
            assertCause(assertSubmitThrows(pool).cause, backend, { signal: "SIGKILL" }, [who.pid]);
          } else {
            // Impossible on threads: the worker is a thread of this very process, so no signal reaches it alone.
            // The idle death of a thread is covered by the test above (it exits on its own).
            assert.equal(who.pid, process.pid);
            assert.equal(who.isMainThread, false);
          }
        } finally {
          await pool.shutdown();
        }
        assertNoChildLeft(workers, backend);
      },
    );

    it(
      "R8.3 exiting while the result is being sent is a crash too, not a task error (CPython differs: SystemExit)",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const error = await brokenError(pool.submit(r8.exitWhileSending, 7));
        assertCause(error.cause, backend, { code: 7 });
        assertSubmitThrows(pool);
      },
    );

    it(
      "R8.1 shutdown() right after submitting a crashing task resolves, and the task fails (scenario 75)",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        const crash = pool.submit(r8.exitNow, 1);
        const started = Date.now();
        await pool.shutdown();
        assert.ok(Date.now() - started < 10_000, "shutdown does not hang");
        assertCause((await brokenError(crash)).cause, backend, { code: 1 });
      },
    );

    it(
      "R8.1 a worker that dies while shutdown() waits fails the unfinished futures; shutdown resolves",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const returned = pool.submit(r8.exitLater, 9, 100);
        const queued = pool.submit(r8.nap, 2_000);
        const started = Date.now();
        await pool.shutdown();
        assert.ok(Date.now() - started < 10_000, "shutdown does not hang");
        assert.equal(typeof await returned.result(), "number", "the finished task keeps its result");
        assertCause((await brokenError(queued)).cause, backend, { code: 9 });
      },
    );

    it(
      "R8.1 map() over large inputs whose task crashes throws BrokenProcessPool instead of hanging (scenario 77)",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        const big = "x".repeat(256 * 1024);
        const yielded: unknown[] = [];
        await assert.rejects(async () => {
          for await (const x of pool.map(r8.exitWithBigInput, Array.from({ length: 10 }, () => big))) yielded.push(x);
        }, (error) => error instanceof BrokenProcessPool && error.message === BROKEN_FUTURE);
        assert.deepEqual(yielded, []);
      },
    );

    it("R8.4 a value the parent cannot decode fails only its own future; the pool stays usable", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const bad = pool.submit(r8.throwUnreadable);
      const good = pool.submit(r8.double, 4);
      const error = await bad.exception();
      assert.ok(error instanceof TypeError, String(error));
      assert.match(error.message, /decode/);
      assert.equal(await good.result(), 8);
      assert.equal(await pool.submit(r8.double, 21).result(), 42);
    });
  });
}

// R7 with real pools: submit after shutdown, shutdown with and without waiting, cancelFutures, lazy workers and
// reuse, maxTasksPerChild, `await using`, and that no worker outlives the pool or a forgetful program.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type Future, ProcessPoolExecutor, RuntimeError } from "../mod.ts";
import { allWorkersUp, backends, runtime, taskModule } from "./_backends.ts";
import { repoRoot, runScript, runtimeCommand } from "./_scripts.ts";
import * as tasks from "./tasks/r7_shutdown.ts";

const module = taskModule("r7_shutdown.ts");
const LONG = { timeout: 30_000 };
const SHUTDOWN_MESSAGE = "cannot schedule new futures after shutdown";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

// Shuts the pool down and fails the test if that does not resolve within `ms` (a hang is a failure, not a timeout).
async function shutdownWithin(pool: ProcessPoolExecutor, ms = 5_000): Promise<void> {
  const resolved = await Promise.race([pool.shutdown().then(() => true), sleep(ms).then(() => false)]);
  assert.ok(resolved, `shutdown() did not resolve within ${ms} ms`);
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "procpool-r7-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function isShutdownError(error: unknown): boolean {
  assert.ok(error instanceof RuntimeError, `expected RuntimeError, got ${error}`);
  assert.equal(error.message, SHUTDOWN_MESSAGE);
  return true;
}

function pidOf(id: string): number {
  return Number(id.split(":")[0]);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function size(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

// True when none of the heartbeat files grows over `windowMs` (the workers that wrote them are gone).
async function heartbeatsStopped(paths: string[], windowMs = 200): Promise<boolean> {
  const before = paths.map(size);
  await sleep(windowMs);
  return paths.every((p, i) => size(p) === before[i]);
}

async function untilHeartbeatsStop(paths: string[], ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await heartbeatsStopped(paths))) {
    if (Date.now() > end) assert.fail(`the heartbeats in ${paths} still beat after ${ms} ms`);
  }
}

const taskScript = (name: string) => fileURLToPath(taskModule(name));

for (const backend of backends) {
  describe(`R7 shutdown and lifetime (${runtime}, ${backend})`, () => {
    it(
      'R7.1 submit and map after shutdown throw RuntimeError "cannot schedule new futures after shutdown"',
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        assert.equal(await pool.submit(tasks.double, 2), 4);
        await pool.shutdown();
        assert.throws(() => pool.submit(tasks.double, 5), isShutdownError);
        assert.throws(() => pool.submit("double", 5), isShutdownError);
        assert.throws(() => pool.map(tasks.double, [1]), isShutdownError);
        assert.throws(() => pool.starmap(tasks.double, [[1]]), isShutdownError);

        // Also right after a shutdown that has not finished yet, and one that does not wait.
        const busy = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const running = busy.submit(tasks.nap, 200, "still runs");
        const closing = busy.shutdown({ wait: false });
        assert.throws(() => busy.submit(tasks.double, 1), isShutdownError);
        await closing;
        assert.equal(await running, "still runs");
        await busy.shutdown();
      },
    );

    it("R7.2 shutdown() resolves after every future finished and every worker exited", LONG, async () => {
      await withDir(async (dir) => {
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        const beats = [0, 1, 2, 3].map((i) => join(dir, `beat${i}`));
        const ids = await Promise.all(beats.map((path) => pool.submit(tasks.heartbeat, path)));
        const futures = [0, 1, 2, 3].map((i) => pool.submit(tasks.nap, 100 + 30 * i, i));
        await pool.shutdown();
        assert.ok(futures.every((f) => f.done()), "every future was done when shutdown() resolved");
        assert.deepEqual(await Promise.all(futures), [0, 1, 2, 3]);
        assert.ok(await heartbeatsStopped(beats), "no worker was still beating after shutdown() resolved");
        if (backend === "process") {
          for (const id of new Set(ids)) assert.equal(isAlive(pidOf(id)), false, `worker process ${id} still alive`);
        }
      });
    });

    it(
      "R7.2 repeated and concurrent shutdown calls all resolve, the waiting ones once the work is done",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        const futures = [0, 1, 2].map((i) => pool.submit(tasks.nap, 200, i));
        await until(() => futures.every((f) => f.running()), 10_000, "every task to be handed to a worker");
        const order: string[] = [];
        const calls = [
          pool.shutdown().then(() => order.push(`first:${futures.every((f) => f.done())}`)),
          pool.shutdown().then(() => order.push(`second:${futures.every((f) => f.done())}`)),
          pool.shutdown({ wait: false }).then(() => order.push("nowait")),
          pool.shutdown({ cancelFutures: true }).then(() => order.push(`cancel:${futures.every((f) => f.done())}`)),
        ];
        await Promise.all(calls);
        assert.equal(order[0], "nowait", "shutdown({ wait: false }) resolved first");
        assert.deepEqual(order.slice(1).sort(), ["cancel:true", "first:true", "second:true"]);
        await pool.shutdown();
        await pool.shutdown({ wait: false, cancelFutures: true });
        assert.deepEqual(await Promise.all(futures), [0, 1, 2]);
      },
    );

    it(
      "R7.2 shutdown({ cancelFutures: true }) cancels the not-yet-started futures and the rest finish (test_cancel_futures)",
      LONG,
      async () => {
        await withDir(async (dir) => {
          const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
          const futures: Future<string>[] = [];
          for (let i = 0; i < 50; i++) futures.push(pool.submit(tasks.markAndNap, dir, `t${i}`, 100));
          await until(() => futures[0].running(), 10_000, "the first task to run");
          await pool.shutdown({ cancelFutures: true });
          const cancelled = futures.filter((f) => f.cancelled());
          const kept = futures.filter((f) => !f.cancelled());
          // CPython (≤ 5 workers): more than 20 of 50; procpool hands about two per worker out.
          assert.ok(cancelled.length > 40, `only ${cancelled.length} of 50 were cancelled`);
          assert.ok(kept.length >= 1, "the running ones were not cancelled");
          for (const f of kept) {
            assert.ok(f.done());
            assert.equal(await f.exception(), undefined);
          }
          const ran = new Set(readdirSync(dir));
          futures.forEach((f, i) => assert.equal(ran.has(`t${i}`), !f.cancelled(), `t${i}: ran iff not cancelled`));
        });
      },
    );

    it(
      "R7.3 shutdown({ wait: false }) returns at once, queued work still finishes, and the workers exit afterwards",
      LONG,
      async () => {
        await withDir(async (dir) => {
          const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
          const beat = join(dir, "beat");
          const id = await pool.submit(tasks.heartbeat, beat);
          const futures = [0, 1, 2, 3, 4].map((i) => pool.submit(tasks.nap, 100, i));
          const started = Date.now();
          await pool.shutdown({ wait: false });
          assert.ok(Date.now() - started < 200, "shutdown({ wait: false }) resolved at once");
          assert.equal(futures[4].done(), false, "queued work was not waited for");
          assert.throws(() => pool.submit(tasks.double, 1), isShutdownError);
          assert.deepEqual(await Promise.all(futures), [0, 1, 2, 3, 4]);
          await untilHeartbeatsStop([beat], 5_000);
          if (backend === "process") await until(() => !isAlive(pidOf(id)), 5_000, "the worker process to exit");
        });
      },
    );

    it("R7.3 a map() iterator still yields after shutdown({ wait: false }) (test_shutdown_no_wait)", LONG, async () => {
      const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      const results = pool.map(tasks.abs, [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4]);
      await pool.shutdown({ wait: false });
      const got: number[] = [];
      for await (const x of results) got.push(x);
      assert.deepEqual(got, [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]);
      await pool.shutdown();
    });

    it(
      "R7.4 workers start lazily and an idle one is reused: three sequential tasks run on one worker (test_idle_process_reuse_one)",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 4, backend });
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) ids.push(await pool.submit(tasks.whoami));
        assert.equal(new Set(ids).size, 1, `expected one worker, got ${ids}`);
      },
    );

    it(
      "R7.4 interleaved submit and wait on a 5-worker pool start at most 3 workers (test_idle_process_reuse_multiple)",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 5, backend });
        const ids: Future<string>[] = [];
        let f = pool.submit(tasks.whoami);
        ids.push(f);
        await f;
        ids.push(pool.submit(tasks.whoami));
        f = pool.submit(tasks.whoami);
        ids.push(f);
        await f;
        ids.push(pool.submit(tasks.whoami));
        f = pool.submit(tasks.whoami);
        ids.push(f);
        await f;
        ids.push(pool.submit(tasks.whoami));
        const distinct = new Set(await Promise.all(ids));
        assert.ok(distinct.size <= 3, `expected at most 3 workers, got ${distinct.size}`);
      },
    );

    it("R7.4 a saturated pool runs exactly maxWorkers workers, never more (test_saturation)", LONG, async () => {
      // As in CPython's test: every task blocks until all are submitted and the pool is full, so no worker can be
      // left out because the others were quicker to start.
      const dir = mkdtempSync(join(tmpdir(), "procpool-r7-saturation-"));
      try {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 3, backend });
        const futures = Array.from({ length: 45 }, () => pool.submit(tasks.gateWho, dir));
        const deadline = Date.now() + 60_000;
        while (readdirSync(dir).length < 3 && Date.now() < deadline) await sleep(20);
        await sleep(300); // a fourth worker, if the pool started one, has time to show up
        const started = readdirSync(dir);
        assert.equal(started.length, 3, `expected 3 workers to start, saw ${started}`);
        writeFileSync(join(dir, "release"), "");
        const ids = await Promise.all(futures);
        assert.equal(new Set(ids).size, 3, `expected 3 distinct workers, got ${[...new Set(ids)]}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("R7.4 two slow tasks submitted together on a 2-worker pool run on two workers at once", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      await allWorkersUp(pool, 2);
      const started = Date.now();
      const ids = await Promise.all([pool.submit(tasks.napWho, 400), pool.submit(tasks.napWho, 400)]);
      const elapsed = Date.now() - started;
      assert.equal(new Set(ids).size, 2, `both tasks ran on worker ${ids[0]}`);
      assert.ok(elapsed < 750, `two 400 ms tasks on two workers took ${elapsed} ms`);
    });

    it(
      "R7.5 maxTasksPerChild 3 on one worker: tasks 1–3 share a worker, task 4 runs on a fresh one (test_max_tasks_per_child)",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, maxTasksPerChild: 3, backend });
        const sequential: string[] = [];
        for (let i = 0; i < 4; i++) sequential.push(await pool.submit(tasks.whoami));
        assert.equal(new Set(sequential.slice(0, 3)).size, 1, `tasks 1–3: ${sequential}`);
        assert.notEqual(sequential[3], sequential[0], "task 4 ran on a fresh worker");

        const together = await Promise.all(Array.from({ length: 7 }, () => pool.submit(tasks.whoami)));
        // The worker that ran task 4 has two tasks left; then fresh ones take three each.
        assert.equal(together[0], sequential[3]);
        assert.equal(together[1], sequential[3]);
        assert.equal(new Set(together.slice(2, 5)).size, 1);
        assert.notEqual(together[2], together[1]);
        assert.notEqual(together[5], together[4]);
        if (backend === "process") {
          assert.equal(isAlive(pidOf(sequential[0])), false, "the retired worker process exited");
        }
        await shutdownWithin(pool);
      },
    );

    for (const [workers, limit, count] of [[1, 2, 6], [2, 2, 8]]) {
      it(
        `R7.5 maxTasksPerChild ${limit} with ${workers} worker(s) and ${count} tasks queued up front: every result arrives (CPython gh-115634)`,
        LONG,
        async () => {
          const pool = new ProcessPoolExecutor({ module, maxWorkers: workers, maxTasksPerChild: limit, backend });
          const futures = Array.from({ length: count }, (_, i) => pool.submit(tasks.double, i));
          const results = await Promise.all(futures.map((f) => f.result(15_000)));
          assert.deepEqual(results, Array.from({ length: count }, (_, i) => i * 2));
          await shutdownWithin(pool);
        },
      );
    }

    it(
      "R7.5 maxTasksPerChild 1 with shutdown() right after submitting six tasks: all six results (test_max_tasks_early_shutdown)",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 3, maxTasksPerChild: 1, backend });
        const futures = Array.from({ length: 6 }, (_, i) => pool.submit(tasks.double, i));
        await shutdownWithin(pool, 10_000);
        assert.deepEqual(await Promise.all(futures.map((f) => f.result(0))), [0, 2, 4, 6, 8, 10]);
      },
    );

    it(
      "R7.5 maxTasksPerChild 1 with shutdown({ wait: false }) while the first task runs: the queued ones still complete (gh-119592)",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, maxTasksPerChild: 1, backend });
        const futures = [0, 1, 2].map((i) => pool.submit(tasks.nap, 60, i));
        await until(() => futures[0].running(), 10_000, "the first task to run");
        await pool.shutdown({ wait: false });
        assert.deepEqual(await Promise.all(futures.map((f) => f.result(15_000))), [0, 1, 2]);
        await shutdownWithin(pool);
      },
    );

    for (const workers of [2]) {
      it(
        `R7.5 maxTasksPerChild 1 with ${workers} workers: stopping map() at the first error, then shutdown({ wait: false }), winds down (gh-132969)`,
        LONG,
        async () => {
          const pool = new ProcessPoolExecutor({ module, maxWorkers: workers, maxTasksPerChild: 1, backend });
          let sum = 0;
          let error: unknown;
          try {
            for await (const x of pool.map(tasks.goodOrFail, [1, 2, 3])) sum += x;
          } catch (e) {
            error = e;
          }
          assert.equal((error as Error).message, "failing 2");
          await pool.shutdown({ wait: false });
          assert.equal(sum, 1);
          await shutdownWithin(pool);
        },
      );
    }

    it("R7.2 `await using` shuts the pool down at the end of the block, waiting for its work", LONG, async () => {
      let future: Future<unknown>;
      let pool: ProcessPoolExecutor;
      let id: string;
      {
        await using p = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        pool = p;
        id = await p.submit(tasks.whoami);
        future = p.submit(tasks.nap, 200, "finished in the block");
      }
      assert.equal(future.done(), true, "disposal waited for the work");
      assert.equal(await future, "finished in the block");
      assert.throws(() => pool.submit(tasks.double, 1), isShutdownError);
      if (backend === "process") assert.equal(isAlive(pidOf(id)), false, "the worker process exited");
    });

    it("R7.6 once the pool is shut down no worker is left: pids are gone and heartbeats stop", LONG, async () => {
      await withDir(async (dir) => {
        const beats = [0, 1, 2, 3, 4, 5].map((i) => join(dir, `beat${i}`));
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 3, backend });
        const ids = await Promise.all(beats.map((path) => pool.submit(tasks.heartbeat, path)));
        assert.equal(await heartbeatsStopped(beats, 200), false, "the workers beat while the pool is open");
        await pool.shutdown();
        assert.ok(await heartbeatsStopped(beats), "a worker still beats after shutdown()");
        if (backend === "process") {
          assert.ok(ids.every((id) => pidOf(id) !== process.pid), "process workers have their own pids");
          for (const id of new Set(ids)) assert.equal(isAlive(pidOf(id)), false, `worker ${id} still alive`);
        } else {
          // Thread workers share the parent's pid; only the heartbeat can show that they are gone.
          assert.ok(ids.every((id) => pidOf(id) === process.pid));
        }
      });
    });

    it(
      "R7.7 a program that uses a pool and forgets shutdown() exits by itself with code 0, once its work is done",
      LONG,
      async () => {
        const run = await runScript(taskScript("r7_forgetful_script.ts"), [backend], 10_000);
        const line = /result 42 napped (\d+:\d+)/.exec(run.stdout);
        assert.ok(line !== null, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
        assert.match(run.stdout, /callback saw late/, "the process ended before a task nothing awaited was done");
        assert.equal(run.signal, null, `the program did not end by itself within 10 s (stderr: ${run.stderr})`);
        assert.equal(run.code, 0, `stderr: ${run.stderr}`);
        assert.ok(run.ms < 10_000, `it took ${run.ms} ms to exit`);
        const workerPid = pidOf(line[1]);
        if (backend === "process") await until(() => !isAlive(workerPid), 5_000, "its worker process to exit too");
      },
    );

    it("R7.6 when the parent process is killed its workers stop too", LONG, async () => {
      await withDir(async (dir) => {
        const [command, argv] = runtimeCommand(taskScript("r7_orphan_script.ts"), [backend, dir]);
        const child = spawn(command, argv, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (chunk) => (stdout += chunk));
        child.stderr!.on("data", (chunk) => (stderr += chunk));
        const closed = new Promise((resolve) => child.on("close", resolve));
        try {
          await until(() => stdout.includes("ready") || child.exitCode !== null, 15_000, "the program to start");
          assert.match(stdout, /ready/, `stderr: ${stderr}`);
          const beats = readdirSync(dir).map((name) => join(dir, name));
          assert.equal(beats.length, 4);
          assert.equal(await heartbeatsStopped(beats, 200), false, "the workers beat while the parent lives");
          child.kill("SIGKILL");
          await closed;
          await untilHeartbeatsStop(beats, 5_000);
          if (backend === "process") {
            const pids = stdout.trim().split(" ").slice(1).map(pidOf);
            assert.ok(pids.length >= 1);
            await until(() => pids.every((pid) => !isAlive(pid)), 5_000, "the orphaned worker processes to exit");
          }
        } finally {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        }
      });
    });
  });
}

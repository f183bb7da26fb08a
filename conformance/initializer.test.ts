// R1 with real pools: the initializer runs once per worker before its first task; one that fails breaks the pool
// (CPython's test_init.py FailingInitializerMixin and reference scenario 80).

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { BrokenExecutor, BrokenProcessPool, type Future, ProcessPoolExecutor, RuntimeError } from "../mod.ts";
import { backends, runtime, taskModule } from "./_backends.ts";
import * as r1 from "./tasks/r1_init.ts";

const module = taskModule("r1_init.ts");
const LONG = { timeout: 30_000 };
const BROKEN_FUTURE = "A process in the process pool was terminated abruptly while the future was running or pending.";
const BROKEN_SUBMIT = "A child process terminated abruptly, the process pool is not usable anymore";
const ROOT = fileURLToPath(new URL("..", import.meta.url));

function isBrokenFuture(error: unknown): boolean {
  assert.ok(error instanceof BrokenProcessPool, `expected BrokenProcessPool, got ${String(error)}`);
  assert.ok(error instanceof BrokenExecutor);
  assert.ok(error instanceof RuntimeError);
  assert.equal(error.name, "BrokenProcessPool");
  assert.equal(error.message, BROKEN_FUTURE);
  return true;
}

function isBrokenSubmit(error: unknown): boolean {
  assert.ok(error instanceof BrokenProcessPool, `expected BrokenProcessPool, got ${String(error)}`);
  assert.equal(error.message, BROKEN_SUBMIT);
  return true;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

// Runs `args` with the runtime these tests run on (node + tsx, deno run, bun) and captures its output.
function runScript(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const execArgs = runtime === "node"
    ? ["--import", "tsx", ...args]
    : runtime === "deno"
    ? ["run", "-A", "--no-check", ...args]
    : args;
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve) => {
    execFile(process.execPath, execArgs, { cwd: ROOT, env, timeout: 25_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

for (const backend of backends) {
  describe(`R1 initializer (${runtime}, ${backend})`, () => {
    it(
      "R1.1 each worker calls initializer(...initArgs), given by export name, once before its first task",
      LONG,
      async () => {
        const initArgs = ["tag", 7, new Map([["k", 1n]]), undefined, new Date(0)];
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend, initializer: "init", initArgs });
        const futures = Array.from({ length: 8 }, () => pool.submit(r1.slowReport, 30));
        const reports = await Promise.all(futures.map((f) => f.result()));
        const tokens = new Set<string>();
        for (const report of reports) {
          assert.equal(report.initCalls, 1, "initializer called exactly once in this worker");
          assert.equal(report.initDone, true);
          assert.equal(report.tasksBeforeInit, 0, "no task ran before the initializer");
          assert.deepEqual(report.initArgs, initArgs);
          tokens.add(report.token);
        }
        assert.ok(tokens.size >= 1 && tokens.size <= 2, `at most maxWorkers workers, got ${tokens.size}`);
        // The task module's top level runs in the parent too, but the initializer does not.
        const parent = r1.report();
        assert.ok(!tokens.has(parent.token));
        assert.equal(parent.initCalls, 0);
      },
    );

    it("R1.1 an initializer given as the exported function object runs like its name", LONG, async () => {
      await using pool = new ProcessPoolExecutor({
        module,
        maxWorkers: 1,
        backend,
        initializer: r1.init,
        initArgs: ["fn"],
      });
      const report = await pool.submit(r1.report).result();
      assert.equal(report.initCalls, 1);
      assert.deepEqual(report.initArgs, ["fn"]);
      assert.equal(report.tasksBeforeInit, 0);
    });

    it("R1.1 an async initializer is awaited before the worker runs its first task", LONG, async () => {
      await using pool = new ProcessPoolExecutor({
        module,
        maxWorkers: 2,
        backend,
        initializer: "asyncInit",
        initArgs: [150, "async", 2],
      });
      const reports = await Promise.all(Array.from({ length: 6 }, () => pool.submit(r1.report).result()));
      for (const report of reports) {
        assert.equal(report.initDone, true, "the task ran only after the initializer's promise settled");
        assert.equal(report.tasksBeforeInit, 0);
        assert.equal(report.initCalls, 1);
        assert.deepEqual(report.initArgs, ["async", 2]);
      }
    });

    it(
      "R1.3 a failing initializer breaks the pool: pending futures fail with BrokenProcessPool, callbacks run once (scenario 80)",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({
          module,
          maxWorkers: 2,
          backend,
          initializer: "failingInit",
          initArgs: ["error in initializer"],
        });
        try {
          const calls: string[] = [];
          const futures: Future<unknown>[] = [pool.submit("double", 1)];
          // CPython: the second submit races the break (reference 34), so both outcomes are accepted.
          try {
            futures.push(pool.submit("double", 2));
          } catch (error) {
            isBrokenSubmit(error);
          }
          futures.forEach((f, i) => {
            f.addDoneCallback(() => calls.push(`f${i}:a`));
            f.addDoneCallback(() => calls.push(`f${i}:b`));
          });
          const errors = await Promise.all(futures.map((f) => f.exception()));
          for (const error of errors) isBrokenFuture(error);
          for (const f of futures) {
            assert.match(String(f), /^<Future at #\d+ state=finished raised BrokenProcessPool>$/);
          }
          // Once each, in registration order, futures in submission order (reference 19).
          assert.deepEqual(calls, futures.flatMap((_, i) => [`f${i}:a`, `f${i}:b`]));

          // R1.4: from now on submit and map throw synchronously with the submit message.
          assert.throws(() => pool.submit("double", 3), isBrokenSubmit);
          assert.throws(() => pool.submit(r1.double, 3), isBrokenSubmit);
          assert.throws(() => pool.map("double", [1, 2]), isBrokenSubmit);
          assert.throws(() => pool.starmap("double", [[1]]), isBrokenSubmit);
          // R5.6: an empty map never throws, even on a broken pool.
          assert.deepEqual(await collect(pool.map("double", [])), []);
          assert.equal(calls.length, futures.length * 2, "no callback ran twice");
        } finally {
          // R1.5: shutdown resolves, also when called again and concurrently.
          const started = Date.now();
          await pool.shutdown();
          await Promise.all([pool.shutdown(), pool.shutdown({ wait: true })]);
          assert.ok(Date.now() - started < 10_000, "shutdown of a broken pool does not hang");
        }
        // CPython checks "broken" before "shut down": still BrokenProcessPool, not "cannot schedule new futures".
        assert.throws(() => pool.submit("double", 4), isBrokenSubmit);
      },
    );

    it("R1.3 an async initializer whose promise rejects breaks the pool as well", LONG, async () => {
      await using pool = new ProcessPoolExecutor({
        module,
        maxWorkers: 1,
        backend,
        initializer: "rejectingInit",
        initArgs: [50, "rejected"],
      });
      const future = pool.submit("double", 1);
      await assert.rejects(future.result(), isBrokenFuture);
      assert.throws(() => pool.submit("double", 1), isBrokenSubmit);
    });

    it("R1.3 an initializer that exits its worker breaks the pool as well", LONG, async () => {
      await using pool = new ProcessPoolExecutor({
        module,
        maxWorkers: 1,
        backend,
        initializer: "exitingInit",
        initArgs: [6],
      });
      await assert.rejects(pool.submit("double", 1).result(), isBrokenFuture);
      assert.throws(() => pool.submit("double", 1), isBrokenSubmit);
    });

    it(
      "R1.4 the broken flag is set before futures fail: a done-callback's submit() and map() already throw",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({
          module,
          maxWorkers: 1,
          backend,
          initializer: "failingInit",
          initArgs: ["boom"],
        });
        const fromCallback: unknown[] = [];
        const future = pool.submit("double", 1);
        future.addDoneCallback(() => {
          try {
            pool.submit("double", 2);
            fromCallback.push("submit returned a future");
          } catch (error) {
            fromCallback.push(error);
          }
          try {
            pool.map("double", [3]);
            fromCallback.push("map returned an iterator");
          } catch (error) {
            fromCallback.push(error);
          }
        });
        await assert.rejects(future.result(), isBrokenFuture);
        assert.equal(fromCallback.length, 2);
        for (const error of fromCallback) isBrokenSubmit(error);
      },
    );

    it(
      "R1.4 CPython FailingInitializerMixin: the first submit fails or throws, the pool breaks, later submits throw",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({
          module,
          maxWorkers: 2,
          backend,
          initializer: "slowFailingInit",
          initArgs: [100, "error in initializer"],
        });
        let first: Future<r1.Report> | undefined;
        try {
          first = pool.submit(r1.report);
        } catch (error) {
          // "Perhaps the executor is already broken."
          assert.ok(error instanceof BrokenExecutor, String(error));
        }
        if (first !== undefined) await assert.rejects(first.result(), (e) => e instanceof BrokenExecutor);
        // "At some point, the executor should break": poll, as CPython's test does, within a generous timeout.
        const late: Future<r1.Report>[] = [];
        const deadline = Date.now() + 10_000;
        for (;;) {
          try {
            late.push(pool.submit(r1.report));
          } catch (error) {
            assert.ok(error instanceof BrokenExecutor);
            break;
          }
          assert.ok(Date.now() < deadline, "the executor did not break");
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        for (const f of late) await assert.rejects(f.result(), isBrokenFuture);
        // "... and from this point submit() is guaranteed to fail".
        for (let i = 0; i < 3; i++) assert.throws(() => pool.submit(r1.report), isBrokenSubmit);
      },
    );

    it(
      "R1.3 tutorial: with a failing initializer, iterating map() over ten items throws BrokenProcessPool, nothing yielded",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({
          module,
          maxWorkers: 2,
          backend,
          initializer: "failingInit",
          initArgs: ["Something bad happened!"],
        });
        // The break is not known yet when map() is called, so the call returns an iterator (reference 35).
        const results = pool.map(r1.task, Array.from({ length: 10 }, (_, i) => i));
        const yielded: number[] = [];
        await assert.rejects(async () => {
          for await (const x of results) yielded.push(x);
        }, isBrokenFuture);
        assert.deepEqual(yielded, []);
      },
    );

    it("R1.2 'Exception in initializer:' and the error's stack reach the parent's stderr (R10.2)", LONG, async () => {
      const script = fileURLToPath(new URL("./tasks/r1_stderr_main.ts", import.meta.url));
      const { code, stdout, stderr } = await runScript([script, backend, "slowFailingInit"]);
      assert.equal(code, 0, `the script failed:\n${stderr}`);
      assert.deepEqual(JSON.parse(stdout.trim().split("\n").at(-1)!), {
        name: "BrokenProcessPool",
        message: BROKEN_FUTURE,
      });
      // The header, then the stack: the error line and a frame in the task module.
      assert.match(stderr, /Exception in initializer:\s*\n\s*ValueError: error in initializer\s*\n\s+at .*r1_init\.ts/);
      // One worker started, so it is printed once (reference 32: at most once per started worker).
      assert.equal(stderr.split("Exception in initializer:").length - 1, 1);
    });

    it(
      "R1.5 after a failing initializer, shutdown() resolves and no worker process is left (scenario 42)",
      LONG,
      async () => {
        const dir = mkdtempSync(join(tmpdir(), "procpool-r1-"));
        try {
          const pool = new ProcessPoolExecutor({
            module,
            maxWorkers: 3,
            backend,
            initializer: "pidRecordingFailingInit",
            initArgs: [dir, "no resources"],
          });
          const futures = Array.from({ length: 5 }, (_, i) => pool.submit("double", i));
          for (const f of futures) await assert.rejects(f.result(), isBrokenFuture);
          const started = Date.now();
          await pool.shutdown();
          assert.ok(Date.now() - started < 10_000, "shutdown does not hang");
          const pids = readdirSync(dir).map(Number);
          assert.ok(pids.length >= 1, "at least one worker ran the initializer");
          if (backend === "process") {
            for (const pid of pids) {
              assert.notEqual(pid, process.pid);
              assert.throws(() => process.kill(pid, 0), { code: "ESRCH" }, `worker process ${pid} is still alive`);
            }
          } else {
            // Thread workers live in this process: there is no child process that could outlive the pool.
            assert.deepEqual(new Set(pids), new Set([process.pid]));
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  });
}

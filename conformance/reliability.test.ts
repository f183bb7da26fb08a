// Real task code on real pools: results that come back at once, task code that talks on its worker's own channel,
// tasks that exit their worker, values too large to send, and work that never needed a worker (R2.6, R4.1, R8.1).

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, it } from "node:test";
import { BrokenProcessPool, type Future, ProcessPoolExecutor } from "../mod.ts";
import { backends, runtime, taskModule } from "./_backends.ts";
import * as tasks from "./tasks/r_channel.ts";

const module = taskModule("r_channel.ts");
const LONG = { timeout: 60_000 };

// The command line that runs `code` given on the command line with this runtime: node -e, deno eval, bun -e.
function evalCommand(code: string): [string, string[]] {
  if (runtime === "deno") return [process.execPath, ["eval", code]];
  if (runtime === "bun") return [process.execPath, ["-e", code]];
  // --expose-gc too: Node refuses it in a thread's own flag list, which a parent running -e code needs.
  return [process.execPath, ["--import", "tsx", "--expose-gc", "--input-type=module", "-e", code]];
}

// Milliseconds from `start` until `future` is done, once it is.
function doneAfter(future: Future<unknown>, start: number): Promise<number> {
  return new Promise((resolve) => future.addDoneCallback(() => resolve(performance.now() - start)));
}

for (const backend of backends) {
  describe(`Reliability under real task code (${runtime}, ${backend})`, () => {
    it("R4.1 a finished result reaches the parent before its worker starts a long task", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      await pool.submit(tasks.quick, 0); // the worker is up
      const start = performance.now();
      const quick = pool.submit(tasks.quick, 1);
      const spin = pool.submit(tasks.spin, 1_500);
      const [quickMs, spinMs] = await Promise.all([doneAfter(quick, start), doneAfter(spin, start)]);
      assert.equal(await quick, 1);
      assert.equal(await spin, 1_500);
      // Today's CPython shows it within a millisecond or two; the bound leaves room for a loaded machine.
      assert.ok(
        quickMs < spinMs - 1_000,
        `quick done at ${quickMs.toFixed(0)} ms, the spin at ${spinMs.toFixed(0)} ms`,
      );
    });

    it(
      "R4.1 no task waits in a worker's queue while another worker is idle",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        await Promise.all([pool.submit(tasks.quick, 0), pool.submit(tasks.quick, 0)]); // both workers are up
        const start = performance.now();
        const slow = [pool.submit(tasks.spin, 1_200), pool.submit(tasks.spin, 300), pool.submit(tasks.spin, 300)];
        const ends = await Promise.all(slow.map((f) => doneAfter(f, start)));
        // The third task belongs on the worker that finished the 300 ms one, not behind the 1,200 ms one.
        assert.ok(ends[2] < ends[0], `ends: ${ends.map((ms) => ms.toFixed(0)).join(", ")} ms`);
      },
    );

    it("R10 task code that posts on its worker's own channel neither reaches nor breaks the pool", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      // A progress report, PM2's readiness string, and arrays shaped like the pool's own messages.
      const messages = [{ progress: 0.5 }, "ready", [5, null], [6, 1, 1, "x", 0], [8, 0], [7, "import", null]];
      for (const message of messages) {
        const channel = await pool.submit(tasks.chat, message).result(10_000);
        assert.ok(["parentPort", "process.send", "self.postMessage"].includes(channel), channel);
      }
      assert.equal(await pool.submit(tasks.quick, 7).result(10_000), 7);
    });

    for (const exiting of ["a function of its own", "the same quick function"]) {
      it(
        `R8.1 tasks that finished before a later task exited their worker keep their outcomes (${exiting})`,
        LONG,
        async () => {
          const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
          await pool.submit(tasks.quickOrExit, 0, -1);
          // Enough quick tasks for the dispatch window to widen, so that the exit travels in a batch with others.
          const before: Future<number>[] = [];
          for (let i = 0; i < 200; i++) before.push(pool.submit(tasks.quickOrExit, i, -1));
          const exit = exiting === "the same quick function"
            ? pool.submit(tasks.quickOrExit, 3, 3)
            : pool.submit(tasks.exitNow, 3);
          const error = await exit.exception(10_000);
          assert.ok(error instanceof BrokenProcessPool, `expected BrokenProcessPool, got ${String(error)}`);
          // Every task dispatched before the exiting one ran before it, in order: each keeps its result.
          const outcomes = await Promise.all(before.map((f) => f.result().then((v) => v, (e) => e)));
          const lost = outcomes.filter((v, i) => v !== i);
          assert.equal(lost.length, 0, `${lost.length} of 200 lost, e.g. ${String(lost[0])}`);
          await pool.shutdown();
        },
      );
    }

    it("R7.4 a pool made by code given on the command line (node -e, deno eval, bun -e) works", LONG, async () => {
      const code = `
        const { ProcessPoolExecutor } = await import(${JSON.stringify(new URL("../mod.ts", import.meta.url).href)});
        const pool = new ProcessPoolExecutor({ module: ${
        JSON.stringify(module.href)
      }, maxWorkers: 2, backend: "${backend}" });
        console.log("result", await pool.submit("quick", 42), await pool.submit("quick", 8));
        await pool.shutdown();`;
      const [command, args] = evalCommand(code);
      const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
        execFile(command, args, { timeout: 30_000 }, (error, stdout, stderr) => {
          if (error !== null) reject(new Error(`${error.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
          else resolve({ stdout, stderr });
        });
      });
      // A child that re-ran the parent's code would print more results, or start pools of its own and never end.
      assert.equal(stdout, "result 42 8\n", stderr);
    });

    it("R7.4 cancelled tasks and unknown names start no worker", LONG, async () => {
      const dir = mkdtempSync(join(tmpdir(), "procpool-spawn-"));
      try {
        const marker = join(dir, "initialized");
        const pool = new ProcessPoolExecutor({ module, backend, initializer: tasks.mark, initArgs: [marker] });
        const cancelled = pool.submit(tasks.quick, 1);
        assert.equal(cancelled.cancel(), true);
        const unknown = pool.submit("noSuchExport", 1);
        await assert.rejects(unknown.result(10_000), TypeError);
        await pool.shutdown();
        assert.equal(existsSync(marker), false, "an initializer ran: a worker was started for nothing");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    // Half a gigabyte of text: seconds on a JSON transport, tens of seconds where the transport carries it whole.
    it("R2.6 a result too large to send fails only its own future", { timeout: 180_000 }, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const result = pool.submit(tasks.huge, 2 ** 28);
      const error = await result.exception(60_000);
      if (error === undefined) assert.equal((await result.result())[1].length, 2 ** 28);
      else assert.match(String(error), /^TypeError: Cannot send the task's result back/);
      assert.equal(await pool.submit(tasks.quick, 5).result(10_000), 5);
    });
  });
}

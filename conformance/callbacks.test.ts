// R3 with real pools: done-callbacks run once each, in registration order, for every way a future ends; a callback
// that throws is logged and changes nothing else (reference D, scenarios 1–6, 84, and the tutorial's example).

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BrokenProcessPool, type Future, ProcessPoolExecutor, setLogger } from "../mod.ts";
import { backends, runtime, taskModule } from "./_backends.ts";
import * as r3 from "./tasks/r3_callbacks.ts";

const module = taskModule("r3_callbacks.ts");
const LONG = { timeout: 30_000 };
const CALLBACK_MESSAGE = /^exception calling callback for <Future at #\d+ state=/;

type Record = [message: string, error: unknown];

// Runs `fn` with a logger that collects the callback-error records, then puts the previous logger back.
async function withLogger<T>(fn: (records: Record[]) => Promise<T>): Promise<T> {
  const records: Record[] = [];
  const previous = setLogger((message, error) => {
    if (CALLBACK_MESSAGE.test(message)) records.push([message, error]);
  });
  try {
    return await fn(records);
  } finally {
    setLogger(previous);
  }
}

// Adds callbacks "a", "b", "c" that note their name, that they got this very future, and whether it was done.
function track<T>(future: Future<T>, calls: string[], prefix = ""): void {
  for (const name of ["a", "b", "c"]) {
    future.addDoneCallback((f) => {
      assert.equal(f, future);
      calls.push(`${prefix}${name}:${f.done() ? "done" : "not done"}`);
    });
  }
}

function settle(ms = 50): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

for (const backend of backends) {
  describe(`R3 done-callbacks with a real pool (${runtime}, ${backend})`, () => {
    it("R3.1 callbacks run once each, in registration order, when the task returns", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const calls: string[] = [];
      const future = pool.submit(r3.nap, 50, 7);
      track(future, calls);
      assert.deepEqual(calls, [], "not before the future is done");
      assert.equal(await future.result(), 7);
      assert.deepEqual(calls, ["a:done", "b:done", "c:done"]);
      await settle();
      assert.equal(await pool.submit(r3.double, 21).result(), 42);
      assert.deepEqual(calls, ["a:done", "b:done", "c:done"], "never again");
    });

    it("R3.1 callbacks run once each, in registration order, when the task throws", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const calls: string[] = [];
      const future = pool.submit(r3.fail, "no");
      track(future, calls);
      assert.ok(await future.exception() instanceof r3.ValueError);
      assert.deepEqual(calls, ["a:done", "b:done", "c:done"]);
      await settle();
      assert.deepEqual(calls, ["a:done", "b:done", "c:done"]);
    });

    it("R3.1 callbacks run once each when the pool breaks, futures in submission order", LONG, async () => {
      await using pool = new ProcessPoolExecutor({
        module,
        maxWorkers: 2,
        backend,
        initializer: "failingInit",
        initArgs: ["init failed"],
      });
      const calls: string[] = [];
      const futures = [0, 1, 2].map((i) => pool.submit(r3.double, i));
      futures.forEach((f, i) => track(f, calls, `f${i}.`));
      for (const f of futures) assert.ok(await f.exception() instanceof BrokenProcessPool);
      assert.deepEqual(calls, [0, 1, 2].flatMap((i) => ["a", "b", "c"].map((n) => `f${i}.${n}:done`)));
      await pool.shutdown();
      assert.equal(calls.length, 9, "never again, also not at shutdown");
    });

    it(
      "R3.1 cancel() runs the callbacks at once, in order, and never again when the pool reaches the future",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const calls: string[] = [];
        // Nothing can have started yet: the pool is still importing the module.
        const future = pool.submit(r3.double, 1);
        track(future, calls);
        assert.equal(future.cancel(), true);
        assert.deepEqual(calls, ["a:done", "b:done", "c:done"], "synchronously, inside cancel()");
        assert.equal(future.cancel(), true);
        assert.equal(await pool.submit(r3.double, 2).result(), 4);
        await pool.shutdown();
        assert.deepEqual(calls, ["a:done", "b:done", "c:done"]);
      },
    );

    it("R3.1 futures cancelled by shutdown({ cancelFutures: true }) run their callbacks once", LONG, async () => {
      const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const futures = Array.from({ length: 6 }, (_, i) => pool.submit(r3.nap, 300, i));
      const counts = futures.map(() => 0);
      const sawCancelled = futures.map(() => false);
      futures.forEach((f, i) =>
        f.addDoneCallback(() => {
          counts[i]++;
          sawCancelled[i] = f.cancelled();
        })
      );
      const deadline = Date.now() + 10_000;
      while (!futures[0].running()) {
        assert.ok(Date.now() < deadline, "the first task never started");
        await settle(5);
      }
      await pool.shutdown({ cancelFutures: true });
      // R4.1: with 300 ms tasks the last of six is still pending when shutdown cancels.
      assert.ok(futures[5].cancelled());
      futures.forEach((f, i) => {
        assert.equal(counts[i], 1, `future ${i} callback count`);
        assert.equal(sawCancelled[i], f.cancelled());
      });
    });

    it("R3.1 a callback may submit to a healthy pool (chaining)", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      let chained: Future<number> | undefined;
      const first = pool.submit(r3.double, 2);
      first.addDoneCallback(() => {
        chained = pool.submit(r3.double, 4);
      });
      assert.equal(await first.result(), 4);
      assert.ok(chained !== undefined);
      assert.equal(await chained.result(), 8);
    });

    it(
      "R3.2 a callback added to a future that is already done runs at once, before addDoneCallback returns",
      LONG,
      async () => {
        // Each helper returns its future inside an array: a Future is a thenable, so returning it bare from an
        // async function would await its result.
        const [returned] = await (async () => {
          await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
          const f = pool.submit(r3.double, 3);
          await f.result();
          return [f];
        })();
        const [failed] = await (async () => {
          await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
          const f = pool.submit(r3.fail, "x");
          await f.exception();
          return [f];
        })();
        const [broken] = await (async () => {
          await using pool = new ProcessPoolExecutor({
            module,
            maxWorkers: 1,
            backend,
            initializer: "failingInit",
            initArgs: ["x"],
          });
          const f = pool.submit(r3.double, 3);
          await f.exception();
          return [f];
        })();
        const [cancelled] = await (async () => {
          await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
          const f = pool.submit(r3.double, 3);
          assert.ok(f.cancel());
          return [f];
        })();
        for (const [label, future] of Object.entries({ returned, failed, broken, cancelled })) {
          const seen: unknown[] = [];
          future.addDoneCallback((f) => seen.push(f));
          assert.deepEqual(seen.length, 1, `${label}: ran synchronously`);
          assert.equal(seen[0], future);
        }
        assert.equal(await returned.result(), 6);
        assert.ok(await failed.exception() instanceof r3.ValueError);
        assert.ok(await broken.exception() instanceof BrokenProcessPool);
        assert.ok(cancelled.cancelled());
      },
    );

    it(
      "R3.3 a throwing callback is logged as 'exception calling callback for <Future … returned number>'; nothing else changes",
      LONG,
      async () => {
        await withLogger(async (records) => {
          await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
          const thrown = new Error("cb boom");
          const calls: string[] = [];
          const future = pool.submit(r3.double, 21);
          future.addDoneCallback(() => calls.push("before"));
          future.addDoneCallback(() => {
            throw thrown;
          });
          future.addDoneCallback(() => calls.push("after"));
          assert.equal(await future.result(), 42, "the future keeps its outcome");
          assert.deepEqual(calls, ["before", "after"], "later callbacks still run");
          assert.equal(records.length, 1);
          assert.match(
            records[0][0],
            /^exception calling callback for <Future at #\d+ state=finished returned number>$/,
          );
          assert.equal(records[0][0], `exception calling callback for ${future}`);
          assert.equal(records[0][1], thrown);
          assert.equal(await pool.submit(r3.double, 4).result(), 8, "the pool is unaffected");
        });
      },
    );

    it("R3.3 a throwing callback of a failed task is logged with 'raised ValueError'", LONG, async () => {
      await withLogger(async (records) => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const thrown = new TypeError("cb type error");
        let later = 0;
        const future = pool.submit(r3.fail, "task failed");
        future.addDoneCallback(() => {
          throw thrown;
        });
        future.addDoneCallback(() => later++);
        const error = await future.exception();
        assert.ok(error instanceof r3.ValueError);
        assert.equal(later, 1);
        assert.deepEqual(records.map(([m]) => m.replace(/#\d+/, "#N")), [
          "exception calling callback for <Future at #N state=finished raised ValueError>",
        ]);
        assert.equal(records[0][1], thrown);
        assert.equal(await future.exception(), error);
        assert.equal(await pool.submit(r3.double, 5).result(), 10);
      });
    });

    it("R3.3 throwing callbacks of broken and cancelled futures are logged with their states", LONG, async () => {
      await withLogger(async (records) => {
        {
          await using pool = new ProcessPoolExecutor({
            module,
            maxWorkers: 1,
            backend,
            initializer: "failingInit",
            initArgs: ["x"],
          });
          const future = pool.submit(r3.double, 1);
          future.addDoneCallback(() => {
            throw new Error("on broken");
          });
          assert.ok(await future.exception() instanceof BrokenProcessPool);
        }
        {
          await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
          const future = pool.submit(r3.double, 1);
          future.addDoneCallback(() => {
            throw new Error("on cancel");
          });
          assert.equal(future.cancel(), true, "cancel() does not throw and still returns true");
        }
        assert.deepEqual(records.map(([m, e]) => [m.replace(/#\d+/, "#N"), (e as Error).message]), [
          ["exception calling callback for <Future at #N state=finished raised BrokenProcessPool>", "on broken"],
          ["exception calling callback for <Future at #N state=cancelled>", "on cancel"],
        ]);
      });
    });

    it(
      "R3.3 a throwing callback added to a done future is logged and addDoneCallback does not throw",
      LONG,
      async () => {
        await withLogger(async (records) => {
          await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
          const future = pool.submit(r3.double, 1);
          await future.result();
          const thrown = new Error("late boom");
          future.addDoneCallback(() => {
            throw thrown;
          });
          assert.deepEqual(records, [[`exception calling callback for ${future}`, thrown]]);
          assert.equal(await future.result(), 2);
        });
      },
    );

    it("R3.3 the default logger calls console.error(message, error), looked up when it logs", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const future = pool.submit(r3.double, 1);
      await future.result();
      const thrown = new Error("default logger");
      const seen: unknown[][] = [];
      const previousLogger = setLogger(undefined);
      const original = console.error;
      console.error = (...args: unknown[]) => void seen.push(args);
      try {
        future.addDoneCallback(() => {
          throw thrown;
        });
      } finally {
        console.error = original;
        setLogger(previousLogger);
      }
      assert.deepEqual(seen, [[`exception calling callback for ${future}`, thrown]]);
    });

    it(
      "R3.3 tutorial: the first callback raises, the second still runs, the task's result is intact",
      LONG,
      async () => {
        await withLogger(async (records) => {
          const output: string[] = [];
          await using executor = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
          const future = executor.submit(r3.work, 200);
          future.addDoneCallback(() => {
            throw new Error("Something bad happened!");
          });
          future.addDoneCallback(() => output.push("Callback 2 called."));
          const result = await future.result();
          output.push(result);
          assert.deepEqual(output, ["Callback 2 called.", "Task is done"]);
          assert.equal(records.length, 1);
          assert.match(
            records[0][0],
            /^exception calling callback for <Future at #\d+ state=finished returned string>$/,
          );
          assert.equal((records[0][1] as Error).message, "Something bad happened!");
        });
      },
    );
  });
}

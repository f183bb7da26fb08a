// R5 with real pools: map() and starmap() submit eagerly, yield in input order, throw at the failed item's
// position, cancel the rest on an early stop, count the timeout from the call, and keep chunks per item.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BrokenProcessPool, ProcessPoolExecutor, RuntimeError, TimeoutError } from "../mod.ts";
import { allWorkersUp, backends, runtime, taskModule } from "./_backends.ts";
import * as tasks from "./tasks/r5_map.ts";

const module = taskModule("r5_map.ts");
const LONG = { timeout: 30_000 };

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

// Iterates until the first error; returns what was yielded before it and the error (undefined if none).
async function collectUntilError<T>(iterable: AsyncIterable<T>): Promise<{ values: T[]; error: unknown }> {
  const values: T[] = [];
  try {
    for await (const x of iterable) values.push(x);
  } catch (error) {
    return { values, error };
  }
  return { values, error: undefined };
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs `body` with a fresh temporary directory, removed afterwards.
async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "procpool-r5-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Which items ran (their marker files), as sorted numbers.
function ran(dir: string): number[] {
  return readdirSync(dir).map(Number).sort((a, b) => a - b);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

for (const backend of backends) {
  describe(`R5 map and starmap on a real pool (${runtime}, ${backend})`, () => {
    it("R5.1 map() consumes its input during the call and runs every item without being iterated", LONG, async () => {
      await withDir(async (dir) => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        const consumed: number[] = [];
        function* items() {
          for (const x of [1, 2, 3, 4]) {
            consumed.push(x);
            yield { dir, x, ms: 0 };
          }
        }
        const results = pool.map(tasks.record, items());
        assert.deepEqual(consumed, [1, 2, 3, 4], "the whole input was read by the map() call");
        await until(() => ran(dir).length === 4, 15_000, "every item to run without iteration");
        assert.deepEqual(ran(dir), [1, 2, 3, 4]);
        assert.deepEqual(await collect(results), [2, 4, 6, 8]);
      });
    });

    it("R5.1 map() results come in input order whatever the completion order", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 3, backend });
      // Three workers up first: on a loaded machine, starting one can take longer than the 300 ms nap.
      await allWorkersUp(pool, 3);
      const results = await collect(pool.map(tasks.nap, [300, 0, 0, 0]));
      assert.deepEqual(results.map((r) => r.ms), [300, 0, 0, 0]);
      const firstEnd = results[0].endedAt;
      assert.ok(
        results.slice(1).some((r) => r.endedAt < firstEnd),
        `a later item finished before the first (ends: ${results.map((r) => r.endedAt - firstEnd)})`,
      );
    });

    it(
      "R5.2 iteration yields the results before the first failed item, then throws that item's error",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        const { values, error } = await collectUntilError(pool.map(tasks.double, [1, 2, -3, 4, -5, 6]));
        assert.deepEqual(values, [2, 4]);
        assert.ok(error instanceof tasks.ValueError, `expected the task's ValueError, got ${error}`);
        assert.equal(error.message, "negative -3");
      },
    );

    it("R5.3 break in for await cancels the not-yet-started rest", LONG, async () => {
      await withDir(async (dir) => {
        const got: number[] = [];
        {
          await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
          const items = range(12).map((i) => ({ dir, x: i + 1, ms: 150 }));
          for await (const x of pool.map(tasks.record, items)) {
            got.push(x);
            break;
          }
        } // shutdown waits for whatever was still running
        assert.deepEqual(got, [2]);
        const done = ran(dir);
        assert.ok(done.length <= 4, `at most the first item and the dispatch window ran, not ${done}`);
        assert.equal(existsSync(join(dir, "12")), false, "the last item never ran");
      });
    });

    it("R5.3 return() on the iterator cancels the not-yet-started rest", LONG, async () => {
      await withDir(async (dir) => {
        {
          await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
          const iterator = pool.map(tasks.record, range(12).map((i) => ({ dir, x: i + 1, ms: 150 })));
          assert.deepEqual(await iterator.next(), { value: 2, done: false });
          assert.deepEqual(await iterator.return(), { value: undefined, done: true });
          assert.deepEqual(await iterator.next(), { value: undefined, done: true });
        }
        const done = ran(dir);
        assert.ok(done.length <= 4, `at most the first item and the dispatch window ran, not ${done}`);
        assert.equal(existsSync(join(dir, "12")), false, "the last item never ran");
      });
    });

    it(
      "R5.3 an exception thrown in the for await body stops iteration and cancels the not-yet-started rest",
      LONG,
      async () => {
        await withDir(async (dir) => {
          const stop = new Error("consumer gave up");
          {
            await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
            const items = range(12).map((i) => ({ dir, x: i + 1, ms: 150 }));
            await assert.rejects(async () => {
              for await (const x of pool.map(tasks.record, items)) {
                assert.equal(x, 2);
                throw stop;
              }
            }, (e) => e === stop);
          }
          const done = ran(dir);
          assert.ok(done.length <= 4, `at most the first item and the dispatch window ran, not ${done}`);
          assert.equal(existsSync(join(dir, "12")), false, "the last item never ran");
        });
      },
    );

    it("R5.3 a failed item makes iteration throw and cancels the not-yet-started rest", LONG, async () => {
      await withDir(async (dir) => {
        let outcome: { values: number[]; error: unknown };
        {
          await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
          const items = [-1, ...range(19).map((i) => i + 1)].map((x) => ({ dir, x, ms: 150 }));
          outcome = await collectUntilError(pool.map(tasks.record, items));
        }
        assert.deepEqual(outcome.values, []);
        assert.ok(outcome.error instanceof tasks.ValueError);
        assert.equal((outcome.error as Error).message, "negative -1");
        const done = ran(dir);
        // CPython with 2 workers: only [-1, 1..5] ran; procpool's window is about two per worker.
        assert.ok(done.length <= 8, `only the dispatch window ran after the failure, not ${done}`);
        assert.equal(existsSync(join(dir, "19")), false, "the last item never ran");
      });
    });

    it(
      "R5.4 items not ready by the timeout (counted from the map() call) throw TimeoutError after the ready ones",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        await collect(pool.map(tasks.nap, [30, 30, 30, 30])); // start the workers first
        // CPython test_map_timeout: map(sleep, [0, 0, 6], timeout=5) → [None, None], then TimeoutError.
        const { values, error } = await collectUntilError(pool.map(tasks.nap, [0, 0, 800], { timeout: 300 }));
        assert.deepEqual(values.map((v) => v.ms), [0, 0]);
        assert.ok(error instanceof TimeoutError, `expected TimeoutError, got ${error}`);
      },
    );

    it("R5.4 the map() deadline does not restart when iteration starts late", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      await collect(pool.map(tasks.nap, [30, 30, 30, 30])); // start the workers first
      const called = Date.now();
      const results = pool.map(tasks.nap, [50, 1000], { timeout: 600 });
      await sleep(400);
      const { values, error } = await collectUntilError(results);
      const elapsed = Date.now() - called;
      assert.deepEqual(values.map((v) => v.ms), [50]);
      assert.ok(error instanceof TimeoutError, `expected TimeoutError, got ${error}`);
      // Anchored at the call it fires near 600 ms; anchored at the first next() it would be near 1000 ms.
      assert.ok(elapsed >= 550 && elapsed < 950, `TimeoutError came ${elapsed} ms after map()`);
    });

    it("R5.4 after the deadline, items already done are still yielded, then TimeoutError at once", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      await collect(pool.map(tasks.nap, [30, 30, 30, 30]));
      const results = pool.map(tasks.nap, [20, 800], { timeout: 200 });
      await sleep(400);
      const started = Date.now();
      const { values, error } = await collectUntilError(results);
      assert.deepEqual(values.map((v) => v.ms), [20]);
      assert.ok(error instanceof TimeoutError);
      assert.ok(Date.now() - started < 300, "the expired deadline did not wait again");
    });

    it(
      "R5.5 chunksize 1, 2 and 3 keep per-item results and errors: [3,4,5,-1,7,8] yields [6,8,10] then the error",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        for (const chunksize of [1, 2, 3]) {
          const { values, error } = await collectUntilError(pool.map(tasks.double, [3, 4, 5, -1, 7, 8], { chunksize }));
          assert.deepEqual(values, [6, 8, 10], `chunksize ${chunksize}`);
          assert.ok(
            error instanceof tasks.ValueError,
            `chunksize ${chunksize}: expected the task's ValueError, got ${error}`,
          );
          assert.equal(error.message, "negative -1");
        }
      },
    );

    it("R5.5 map and starmap over pow equal the serial result for chunksize 1, 3, 6, 40 and 50", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      const pairs = range(40).map((i) => [i, i] as [number, number]);
      const serial = pairs.map(([a, b]) => tasks.pow(a, b));
      const doubled = range(40).map((i) => tasks.double(i));
      for (const chunksize of [1, 3, 6, 40, 50]) {
        assert.deepEqual(
          await collect(pool.starmap(tasks.pow, pairs, { chunksize })),
          serial,
          `chunksize ${chunksize}`,
        );
        assert.deepEqual(
          await collect(pool.map(tasks.double, range(40), { chunksize })),
          doubled,
          `chunksize ${chunksize}`,
        );
      }
    });

    it("R5.1 starmap() spreads each item as the arguments, in input order, also chunked", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      function* pairs() {
        yield [1, 2] as [number, number];
        yield [3, 4] as [number, number];
        yield [5, 6] as [number, number];
      }
      assert.deepEqual(await collect(pool.starmap(tasks.add, pairs())), [3, 7, 11]);
      assert.deepEqual(await collect(pool.starmap("add", [[1, 2], [3, 4], [5, 6]], { chunksize: 2 })), [3, 7, 11]);
      const { values, error } = await collectUntilError(pool.starmap(tasks.double, [[1], [-2], [3]]));
      assert.deepEqual(values, [2]);
      assert.ok(error instanceof tasks.ValueError);
    });

    it(
      "R5.6 an empty iterable yields nothing on an open and a shut-down pool; map of items after shutdown throws",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        assert.deepEqual(await collect(pool.map(tasks.double, [])), []);
        assert.deepEqual(await collect(pool.starmap(tasks.add, [], { chunksize: 3 })), []);
        await pool.shutdown();
        assert.deepEqual(await collect(pool.map(tasks.double, [])), []);
        assert.deepEqual(await collect(pool.map(tasks.double, new Set<number>(), { chunksize: 4 })), []);
        assert.throws(() => pool.map(tasks.double, [1]), (e: unknown) => {
          assert.ok(e instanceof RuntimeError);
          assert.equal(e.message, "cannot schedule new futures after shutdown");
          return true;
        });
      },
    );

    it(
      "R5.6 on a broken pool an empty iterable yields nothing, a non-empty one throws BrokenProcessPool at the call",
      LONG,
      async () => {
        const broken = new ProcessPoolExecutor({ module, maxWorkers: 1, backend, initializer: tasks.brokenInit });
        try {
          await assert.rejects(broken.submit(tasks.double, 1).result(), BrokenProcessPool);
          assert.deepEqual(await collect(broken.map(tasks.double, [])), []);
          assert.deepEqual(await collect(broken.starmap(tasks.add, [])), []);
          assert.throws(() => broken.map(tasks.double, [1, 2]), BrokenProcessPool);
          assert.throws(() => broken.map(tasks.double, [1, 2], { chunksize: 2 }), BrokenProcessPool);
          assert.throws(() => broken.starmap(tasks.add, [[1, 2]]), BrokenProcessPool);
        } finally {
          await broken.shutdown();
        }
      },
    );

    it(
      "R5.1 map() left un-iterated, then shutdown(), runs every item and resolves (CPython issue 12456)",
      LONG,
      async () => {
        await withDir(async (dir) => {
          const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
          const results = pool.map(tasks.record, range(3).map((i) => ({ dir, x: i + 1, ms: 20 })));
          await pool.shutdown();
          assert.deepEqual(ran(dir), [1, 2, 3]);
          assert.deepEqual(await collect(results), [2, 4, 6], "the iterator still yields after shutdown");
        });
      },
    );
  });
}

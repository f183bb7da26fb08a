// R9 with real pools: every bad argument gets its typed error at the call that made it, and afterwards the pool
// loses nothing (every submitted future settles, good work still runs, shutdown resolves).

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  asCompleted,
  BrokenProcessPool,
  type FIRST_COMPLETED,
  type Future,
  ProcessPoolExecutor,
  type ProcessPoolExecutorOptions,
  TimeoutError,
  wait,
} from "../mod.ts";
import { backends, runtime, taskModule } from "./_backends.ts";
import * as tasks from "./tasks/r9_tasks.ts";

const module = taskModule("r9_tasks.ts");
const LONG = { timeout: 30_000 };

// Builds options from a loose object, for arguments the types forbid.
const opts = (o: Record<string, unknown>) => o as unknown as ProcessPoolExecutorOptions;

function throwsTyped(fn: () => unknown, Type: typeof TypeError | typeof RangeError, message?: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Type, `expected ${Type.name}, got ${e}`);
    if (typeof message === "string") assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

// For calls that return a promise: the bad argument may be reported by a throw or by a rejection.
async function failsWith(fn: () => unknown, check: (error: unknown) => boolean, what: string): Promise<void> {
  let error: unknown = undefined;
  let failed = false;
  try {
    await fn();
  } catch (e) {
    failed = true;
    error = e;
  }
  assert.ok(failed, `${what} did not fail`);
  assert.ok(check(error), `${what} failed with the wrong error: ${error}`);
}

const isRangeError = (e: unknown) => e instanceof RangeError;
const isTypeError = (e: unknown) => e instanceof TypeError;

// Settles a future and reports how: ["ok", value] or ["err", error].
async function settle<T>(f: Future<T>): Promise<["ok", T] | ["err", unknown]> {
  try {
    return ["ok", await f.result(15_000)];
  } catch (e) {
    return ["err", e];
  }
}

// The "loses nothing" check: good work still runs, then shutdown resolves, and every future given is done.
async function losesNothing(pool: ProcessPoolExecutor, futures: Future<unknown>[] = []): Promise<void> {
  assert.equal(await pool.submit(tasks.double, 21).result(15_000), 42);
  for (const f of futures) await settle(f);
  await pool.shutdown();
  assert.ok(futures.every((f) => f.done()), "every submitted future settled");
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe(`R9.1 constructor arguments (${runtime})`, () => {
  it("R9.1 a missing module, or one that is not an absolute URL or URL string, is a TypeError", () => {
    for (
      const bad of [
        {},
        { module: undefined },
        { module: "./tasks/r9_tasks.ts" },
        { module: "r9_tasks.ts" },
        {
          module: 42,
        },
        { module: null },
        { module: {} },
      ]
    ) {
      throwsTyped(() => new ProcessPoolExecutor(opts(bad)), TypeError);
    }
    throwsTyped(() => new ProcessPoolExecutor(undefined as unknown as ProcessPoolExecutorOptions), TypeError);
    throwsTyped(() => new ProcessPoolExecutor(null as unknown as ProcessPoolExecutorOptions), TypeError);
  });

  it('R9.1 maxWorkers 0 or below is a RangeError "maxWorkers must be greater than 0"', () => {
    for (const maxWorkers of [0, -1, -0, -Infinity]) {
      throwsTyped(
        () => new ProcessPoolExecutor({ module, maxWorkers }),
        RangeError,
        "maxWorkers must be greater than 0",
      );
    }
  });

  it("R9.1 maxWorkers NaN, Infinity or 1.5 is a RangeError", () => {
    for (const maxWorkers of [NaN, Infinity, 1.5, 2 ** 60]) {
      throwsTyped(() => new ProcessPoolExecutor({ module, maxWorkers }), RangeError);
    }
  });

  it("R9.1 maxTasksPerChild 0, -1, 1.5, NaN or Infinity is a RangeError", () => {
    for (const maxTasksPerChild of [0, -1, 1.5, NaN, Infinity]) {
      throwsTyped(() => new ProcessPoolExecutor({ module, maxTasksPerChild }), RangeError);
    }
  });

  it("R9.1 an unknown backend is a TypeError that names it", () => {
    throwsTyped(() => new ProcessPoolExecutor(opts({ module, backend: "bogus" })), TypeError, /bogus/);
    throwsTyped(() => new ProcessPoolExecutor(opts({ module, backend: "threads" })), TypeError, /threads/);
  });

  it("R9.1 initArgs that cannot be sent to a worker are a TypeError", () => {
    for (const initArgs of [[() => 1], [Symbol("s")], [new WeakMap()], [{ nested: { fn: Math.max } }]]) {
      throwsTyped(() => new ProcessPoolExecutor({ module, initializer: tasks.initialize, initArgs }), TypeError);
    }
  });

  it("R9.1 an initializer that is neither a function nor a string is a TypeError", () => {
    for (const initializer of [42, {}, true, Symbol("init")]) {
      throwsTyped(() => new ProcessPoolExecutor(opts({ module, initializer })), TypeError);
    }
  });
});

for (const backend of backends) {
  describe(`R9 bad input on a real pool (${runtime}, ${backend})`, () => {
    it(
      'R9.2 chunksize 0, -1, 1.5 or NaN is a RangeError "chunksize must be >= 1." thrown by the map()/starmap() call',
      LONG,
      async () => {
        const dir = mkdtempSync(join(tmpdir(), "procpool-r9-"));
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        try {
          for (const chunksize of [0, -1, 1.5, NaN]) {
            throwsTyped(
              () => pool.map(tasks.markItem, [{ dir, tag: "a" }], { chunksize }),
              RangeError,
              "chunksize must be >= 1.",
            );
            throwsTyped(
              () => pool.starmap(tasks.mark, [[dir, "b"]], { chunksize }),
              RangeError,
              "chunksize must be >= 1.",
            );
          }
          await losesNothing(pool);
          assert.deepEqual(readdirSync(dir), [], "nothing was submitted by the failed calls");
          // chunksize is checked first, as CPython does, even on a pool that is shut down.
          throwsTyped(() => pool.map(tasks.double, [1], { chunksize: 0 }), RangeError, "chunksize must be >= 1.");
        } finally {
          await pool.shutdown();
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );

    it("R9.2 a non-iterable given to map() or starmap() is a TypeError at the call", LONG, async () => {
      const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      try {
        for (const bad of [42, null, undefined, {}, { length: 2 }]) {
          throwsTyped(() => pool.map(tasks.double, bad as unknown as number[]), TypeError);
          throwsTyped(() => pool.starmap(tasks.double, bad as unknown as [number][]), TypeError);
        }
        throwsTyped(() => pool.starmap(tasks.double, [1, 2] as unknown as [number][]), TypeError);
        // Python's map(fn, xs, ys): a second iterable is not taken for options and silently ignored.
        for (const second of [[1, 2], new Set([1])]) {
          const options = second as unknown as { chunksize: number };
          throwsTyped(() => pool.map(tasks.double, [1, 2], options), TypeError, /takes one iterable.*starmap\(\)/);
          throwsTyped(() => pool.starmap(tasks.double, [[1]], options), TypeError, /takes one iterable/);
        }
        await losesNothing(pool);
      } finally {
        await pool.shutdown();
      }
    });

    it("R9.3 a negative timeout means check once, now", LONG, async () => {
      const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      try {
        const done = pool.submit(tasks.double, 2);
        await done;
        const pending = pool.submit(tasks.nap, 500, "late");
        assert.equal(await done.result(-1), 4);
        let started = Date.now();
        await assert.rejects(pending.result(-1), TimeoutError);
        await assert.rejects(pending.exception(-100), TimeoutError);
        assert.ok(Date.now() - started < 200, "a negative timeout does not wait");

        started = Date.now();
        const waited = await wait([done, pending], { timeout: -1 });
        assert.ok(Date.now() - started < 200);
        assert.deepEqual([...waited.done], [done]);
        assert.deepEqual([...waited.notDone], [pending]);

        const yielded: unknown[] = [];
        await assert.rejects(async () => {
          for await (const f of asCompleted([done, pending], { timeout: -5 })) yielded.push(f);
        }, TimeoutError);
        assert.deepEqual(yielded, [done]);

        await assert.rejects(collect(pool.starmap(tasks.nap, [[300, "x"]], { timeout: -1 })), TimeoutError);
        assert.equal(await pending.result(5_000), "late");
        await losesNothing(pool, [pending]);
      } finally {
        await pool.shutdown();
      }
    });

    it("R9.3 a NaN timeout is a RangeError", LONG, async () => {
      const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      try {
        const f = pool.submit(tasks.nap, 100, "v");
        await failsWith(() => f.result(NaN), isRangeError, "result(NaN)");
        await failsWith(() => f.exception(NaN), isRangeError, "exception(NaN)");
        await failsWith(() => wait([f], { timeout: NaN }), isRangeError, "wait(timeout NaN)");
        throwsTyped(() => asCompleted([f], { timeout: NaN }), RangeError);
        throwsTyped(() => pool.map(tasks.double, [1], { timeout: NaN }), RangeError);
        assert.equal(await f, "v", "the future itself is untouched");
        await losesNothing(pool, [f]);
      } finally {
        await pool.shutdown();
      }
    });

    it("R9.3 Infinity, and timeouts above 2^31−1 ms, wait for the outcome", LONG, async () => {
      const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      try {
        for (const timeout of [Infinity, 2 ** 31, 2 ** 40, Number.MAX_VALUE]) {
          const [f, g, h, k] = ["f", "g", "h", "k"].map((v) => pool.submit(tasks.nap, 150, v));
          const yielded: unknown[] = [];
          const [r, e, w] = await Promise.all([
            f.result(timeout),
            g.exception(timeout),
            wait([h], { timeout }),
            (async () => {
              for await (const x of asCompleted([k], { timeout })) yielded.push(x);
            })(),
          ]);
          assert.equal(r, "f", `result(${timeout})`);
          assert.equal(e, undefined, `exception(${timeout})`);
          assert.ok(w.done.has(h), `wait(timeout ${timeout})`);
          assert.deepEqual(yielded, [k], `asCompleted(timeout ${timeout})`);
          assert.deepEqual(
            await collect(pool.map(tasks.double, [1, 2], { timeout })),
            [2, 4],
            `map(timeout ${timeout})`,
          );
        }
        await losesNothing(pool);
      } finally {
        await pool.shutdown();
      }
    });

    it("R9.4 wait() and asCompleted() reject a non-Future in fs and an unknown returnWhen", LONG, async () => {
      const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      try {
        const f = pool.submit(tasks.nap, 200, "v");
        for (const fs of [[42], [f, {}], [f, Promise.resolve(1)], null, undefined, 42]) {
          await failsWith(() => wait(fs as unknown as Future<unknown>[]), isTypeError, `wait(${String(fs)})`);
          throwsTyped(() => asCompleted(fs as unknown as Future<unknown>[]), TypeError);
        }
        const bogus = { returnWhen: "BOGUS" as typeof FIRST_COMPLETED };
        await failsWith(
          () => wait([f], bogus),
          (e) => e instanceof RangeError || e instanceof TypeError,
          "wait(BOGUS)",
        );
        assert.equal(await f, "v");
        await failsWith(
          () => wait([f], bogus),
          (e) => e instanceof RangeError || e instanceof TypeError,
          "wait(BOGUS)",
        );
        await losesNothing(pool, [f]);
      } finally {
        await pool.shutdown();
      }
    });

    it(
      "R9.5 submit() right after the constructor, before the task module is imported, works by function and by name",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        try {
          const started = Date.now();
          const byFunction = pool.submit(tasks.double, 21);
          const byName = pool.submit<number>("double", 4);
          assert.ok(Date.now() - started < 500, "submit() did not block");
          assert.equal(byFunction.state, "PENDING");
          assert.equal(await byFunction, 42);
          assert.equal(await byName, 8);
          await losesNothing(pool);
        } finally {
          await pool.shutdown();
        }
      },
    );

    it(
      "R9.5 a function that is not an export of the module fails its future with a TypeError naming module and name",
      LONG,
      async () => {
        function notExported(x: number): number {
          return x;
        }
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        try {
          const early = [pool.submit(notExported, 1), pool.submit(Math.max, 1, 2)]; // before the module is imported
          await pool.submit(tasks.double, 1);
          const late = [pool.submit(notExported, 1), pool.submit(Math.max, 1, 2)]; // after
          for (
            const [f, name] of [[early[0], "notExported"], [early[1], "max"], [late[0], "notExported"], [
              late[1],
              "max",
            ]] as const
          ) {
            const error = await f.exception(15_000);
            assert.ok(error instanceof TypeError, `expected TypeError, got ${error}`);
            assert.match(error.message, /r9_tasks\.ts/, "the message names the module");
            assert.ok(error.message.includes(name), `the message names ${name}: ${error.message}`);
          }
          await losesNothing(pool, [...early, ...late]);
        } finally {
          await pool.shutdown();
        }
      },
    );

    it(
      "R9.5 a name that is not an own exported function fails its future with a TypeError naming module and name",
      LONG,
      async () => {
        const names = ["nope", "constructor", "__proto__", "toString", "hasOwnProperty", "notAFunction"];
        const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        try {
          const early = names.map((name) => pool.submit(name, 1));
          await pool.submit(tasks.double, 1);
          const late = names.map((name) => pool.submit(name, 1));
          for (const [i, f] of [...early, ...late].entries()) {
            const name = names[i % names.length];
            const error = await f.exception(15_000);
            assert.ok(error instanceof TypeError, `${name}: expected TypeError, got ${error}`);
            assert.match(error.message, /r9_tasks\.ts/, `${name}: the message names the module`);
            assert.ok(error.message.includes(name), `the message names ${name}: ${error.message}`);
          }
          await losesNothing(pool, [...early, ...late]);
        } finally {
          await pool.shutdown();
        }
      },
    );

    it("R9.5 a fn that is neither a function nor a string is a TypeError at the submit() call", LONG, async () => {
      const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      try {
        for (const fn of [42, null, undefined, {}, Symbol("fn")]) {
          throwsTyped(() => pool.submit(fn as unknown as string), TypeError);
        }
        await losesNothing(pool);
      } finally {
        await pool.shutdown();
      }
    });

    it(
      "R9.6 a task module that throws at top level fails every future with that error; nothing hangs and shutdown resolves",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module: taskModule("r9_throws_at_import.ts"), maxWorkers: 1, backend });
        const futures = [pool.submit("double", 1), pool.submit("double", 2)];
        for (const f of futures) {
          const [how, error] = await settle(f);
          assert.equal(how, "err");
          assert.ok(error instanceof Error, `expected the import error, got ${error}`);
          assert.match(error.message, /fails at import on purpose/);
        }
        const later = pool.submit("double", 3);
        const [how, error] = await settle(later);
        assert.equal(how, "err", "a later future fails too");
        assert.match((error as Error).message, /fails at import on purpose/);
        await assert.rejects(collect(pool.map("double", [1, 2])), /fails at import on purpose/);
        await pool.shutdown();
        assert.ok([...futures, later].every((f) => f.done()));
      },
    );

    it(
      "R9.6 a task module that does not exist fails every future with the import error; shutdown resolves",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module: taskModule("r9_does_not_exist.ts"), maxWorkers: 1, backend });
        const futures = [pool.submit("double", 1), pool.submit("double", 2)];
        for (const f of futures) {
          const [how, error] = await settle(f);
          assert.equal(how, "err");
          assert.ok(error instanceof Error, `expected the import error, got ${error}`);
          assert.match(String(error.message), /r9_does_not_exist/, "the error names the missing module");
          assert.ok(!(error instanceof BrokenProcessPool), "the parent's own import error, not a broken pool");
        }
        await pool.shutdown();
      },
    );

    it(
      "R9.6 a task module that fails to import in the worker breaks the pool, with the import error as the cause",
      LONG,
      async () => {
        const pool = new ProcessPoolExecutor({ module: taskModule("r9_throws_in_worker.ts"), maxWorkers: 2, backend });
        const futures = [pool.submit("double", 1), pool.submit("double", 2), pool.submit("double", 3)];
        for (const f of futures) {
          const [how, error] = await settle(f);
          assert.equal(how, "err");
          assert.ok(error instanceof BrokenProcessPool, `expected BrokenProcessPool, got ${error}`);
          assert.match(String((error.cause as Error)?.message), /fails in the worker on purpose/);
        }
        assert.throws(() => pool.submit("double", 4), BrokenProcessPool);
        await pool.shutdown();
        await pool.shutdown();
      },
    );
  });
}

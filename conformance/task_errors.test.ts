// R2 with real pools: a task's error fails only its own future and comes back faithfully (class, name, message,
// properties, cause, stack); thrown non-Errors, unsendable values and unknown task names (reference E, F).

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type Future, ProcessPoolExecutor } from "../mod.ts";
import { backends, runtime, taskModule } from "./_backends.ts";
import * as basic from "./tasks/basic.ts";
import * as r2 from "./tasks/r2_errors.ts";

const module = taskModule("r2_errors.ts");
const LONG = { timeout: 30_000 };

const BUILTINS = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError } as const;

// What the future failed with, asserting that it did fail (the failure is a flag: `undefined` counts).
async function failure<T>(future: Future<T>): Promise<unknown> {
  let failed = false;
  let caught: unknown;
  try {
    await future.result();
  } catch (error) {
    failed = true;
    caught = error;
  }
  assert.ok(failed, `expected ${future} to fail`);
  return caught;
}

async function assertUsable(pool: ProcessPoolExecutor): Promise<void> {
  assert.equal(await pool.submit(r2.double, 21).result(), 42);
}

function localTask(): number {
  return 1;
}

for (const backend of backends) {
  describe(`R2 task errors (${runtime}, ${backend})`, () => {
    it("R2.1 a task that throws fails only its own future; the pool stays usable", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const bad = pool.submit(r2.throwMine, "sync");
      const good = pool.submit(r2.double, 4);
      await assert.rejects(bad.result(), r2.MyError);
      assert.equal(await good.result(), 8);
      await assertUsable(pool);
    });

    it("R2.1 a task whose promise rejects fails only its own future; the pool stays usable", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const bad = pool.submit(r2.throwMine, "async", true);
      const good = pool.submit(r2.double, 5);
      await assert.rejects(bad.result(), { name: "MyError", message: "async" });
      assert.equal(await good.result(), 10);
      await assertUsable(pool);
    });

    it("R2.2 result() rejects with the task's error and exception() resolves to that same object", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const future = pool.submit(r2.throwMine, "same");
      const first = await future.exception();
      assert.ok(first instanceof r2.MyError);
      assert.equal(await future.exception(), first, "exception() gives the same object each time");
      assert.equal(await failure(future), first, "result() rejects with that object");
      assert.equal(await pool.submit(r2.double, 1).exception(), undefined, "no error: exception() is undefined");
    });

    it("R2.3 built-in error classes come back as instances of the same class (thrown and rejected)", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      for (const [kind, Class] of Object.entries(BUILTINS)) {
        for (const async of [false, true]) {
          const error = await pool.submit(r2.throwBuiltin, kind, `a ${kind}`, async).exception();
          assert.equal(Object.getPrototypeOf(error), Class.prototype, `${kind} (async: ${async})`);
          assert.equal((error as Error).name, kind);
          assert.equal((error as Error).message, `a ${kind}`);
        }
      }
    });

    it(
      "R2.3 a class the task module exports comes back as that class (instanceof the imported class)",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const mine = await pool.submit(r2.throwMine, "mine").exception();
        assert.ok(mine instanceof r2.MyError);
        assert.equal(Object.getPrototypeOf(mine), r2.MyError.prototype);
        assert.equal(mine.name, "MyError");
        assert.equal(mine.message, "mine");

        // The constructor needs arguments; the rebuilt error keeps what the worker's had.
        const http = await pool.submit(r2.throwHttp, 503, "unavailable").exception();
        assert.ok(http instanceof r2.HttpError);
        assert.equal(http.message, "503 unavailable");
        assert.equal(http.status, 503);

        const notFound = await pool.submit(r2.throwNotFound, "gone").exception();
        assert.ok(notFound instanceof r2.NotFoundError);
        assert.ok(notFound instanceof r2.HttpError);
        assert.equal(notFound.name, "NotFoundError");
        assert.equal(notFound.status, 404);
        assert.equal(notFound.message, "404 gone");
      },
    );

    it(
      "R2.3 a class the module does not export comes back as an Error that keeps the original name",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const error = await pool.submit(r2.throwHidden, "hidden").exception();
        assert.equal(Object.getPrototypeOf(error), Error.prototype);
        assert.equal((error as Error).name, "HiddenError");
        assert.equal((error as Error).message, "hidden");
      },
    );

    it("R2.3 own enumerable properties and the cause chain survive, recursively", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const top = await pool.submit(r2.throwDetailed).exception() as Error & Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(top), Error.prototype);
      assert.equal(top.message, "top");
      assert.equal(top.code, "E_TOP");
      assert.equal(top.errno, -2);
      assert.deepEqual(top.details, { path: "/x", when: new Date(0), tags: new Set(["a"]) });
      assert.deepEqual(Object.keys(top).sort(), ["code", "details", "errno"]);
      const middle = top.cause as Error;
      assert.equal(Object.getPrototypeOf(middle), RangeError.prototype);
      assert.equal(middle.message, "middle");
      const root = middle.cause as Error;
      assert.ok(root instanceof r2.MyError);
      assert.equal(root.message, "root");
      assert.deepEqual(root.cause, { reason: "disk", codes: [1, 2] });
    });

    it("R2.3 an AggregateError comes back with its errors, each rebuilt", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const error = await pool.submit(r2.rejectAggregate).exception();
      assert.ok(error instanceof AggregateError);
      assert.equal(error.message, "several failed");
      assert.equal(error.errors.length, 3);
      assert.equal(Object.getPrototypeOf(error.errors[0]), TypeError.prototype);
      assert.equal(error.errors[0].message, "t");
      assert.ok(error.errors[1] instanceof r2.MyError);
      assert.equal(error.errors[1].message, "m");
      assert.equal(error.errors[2], "plain");
    });

    it("R2.4 the rebuilt error's stack names the task module's file and the throwing line", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const source = readFileSync(fileURLToPath(module), "utf8").split("\n");
      const line = source.findIndex((text) => text.includes("// R2.4 marker line")) + 1;
      assert.ok(line > 0);
      const error = await pool.submit(r2.throwOnKnownLine).exception() as Error;
      assert.equal(typeof error.stack, "string");
      assert.match(error.stack!, /^MyError: located/);
      assert.ok(error.stack!.includes(`r2_errors.ts:${line}:`), `no frame at r2_errors.ts:${line} in\n${error.stack}`);
      assert.equal(error.cause, undefined, "cause stays the error's own cause");
    });

    it("R2.5 a thrown non-Error value rejects result() with that same value (thrown and rejected)", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      for (const value of ["x", 42, null, undefined, 0, false, ""]) {
        for (const async of [false, true]) {
          const future = pool.submit(r2.throwValue, value, async);
          const caught = await failure(future);
          assert.ok(Object.is(caught, value), `threw ${String(value)} (async: ${async}), got ${String(caught)}`);
          assert.ok(Object.is(await future.exception(), value));
          const type = value === null ? "null" : typeof value;
          assert.equal(String(future).replace(/#\d+/, "#N"), `<Future at #N state=finished raised ${type}>`);
        }
      }
      assert.equal(await failure(pool.submit(r2.throwUndefined)), undefined);
      assert.deepEqual(await failure(pool.submit(r2.throwValue, { plain: [1] })), { plain: [1] });
      await assertUsable(pool);
    });

    it("R2.6 an argument that cannot be sent fails only that future with a TypeError naming it", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const unsendable: [unknown, RegExp][] = [
        [() => 1, /function/i],
        [Symbol("s"), /symbol/i],
        [new WeakMap(), /WeakMap/],
        [new WeakSet(), /WeakSet/],
        [Promise.resolve(1), /Promise/],
        [{ nested: [function inner() {}] }, /function/i],
        // Scenario 66: an argument whose serialization throws.
        [{
          get exploding(): never {
            throw new Error("getter exploded");
          },
        }, /getter exploded/],
      ];
      for (const round of ["before the module loaded", "after a task ran"]) {
        for (const [arg, pattern] of unsendable) {
          // CPython: submit does not throw; the future fails.
          const future = pool.submit("countArgs", arg);
          const error = await failure(future);
          assert.ok(error instanceof TypeError, `${round}: ${String(error)}`);
          assert.match(error.message, pattern);
        }
        await assertUsable(pool);
      }
    });

    it(
      "R2.6 a result that cannot be sent back fails that future with a TypeError; the pool stays usable",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        // The last is scenario 73: a result whose serialization throws in the worker.
        const kinds: [string, RegExp][] = [
          ["function", /function/i],
          ["symbol", /symbol/i],
          ["weakmap", /WeakMap/],
          ["getter", /getter exploded/],
        ];
        for (const [kind, pattern] of kinds) {
          for (const async of [false, true]) {
            const error = await failure(pool.submit(r2.returnUnsendable, kind, async));
            assert.ok(error instanceof TypeError, `${kind} (async: ${async}): ${String(error)}`);
            assert.match(error.message, pattern);
          }
        }
        await assertUsable(pool);
      },
    );

    it(
      "R2.6 an error that cannot be sent back fails that future with a TypeError; the pool stays usable",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        for (const fn of [r2.throwUnsendable, r2.throwFunction]) {
          const error = await failure(pool.submit(fn));
          assert.ok(error instanceof TypeError, `${fn.name}: ${String(error)}`);
          assert.ok(!(error instanceof r2.MyError));
          assert.match(error.message, /function/i);
        }
        await assertUsable(pool);
      },
    );

    it(
      "R2.7 a name that is not an own exported function fails the future with a TypeError naming module and name",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const names = ["nope", "notAFunction", "constructor", "__proto__", "toString", "hasOwnProperty", "then"];
        // First while the parent is still importing the module (checked at dispatch), then once it has.
        for (const round of ["before the module loaded", "after a task ran"]) {
          const futures = names.map((name) => pool.submit(name));
          for (const [i, future] of futures.entries()) {
            const error = await failure(future);
            assert.ok(error instanceof TypeError, `${round}, ${names[i]}: ${String(error)}`);
            assert.ok(error.message.includes(module.href), `${round}: ${error.message}`);
            assert.ok(error.message.includes(names[i]), `${round}: ${error.message}`);
          }
          await assertUsable(pool);
        }
      },
    );

    it(
      "R2.7 a function object the module does not export fails the future with a TypeError naming module and function",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        for (const round of ["before the module loaded", "after a task ran"]) {
          // localTask is this file's; basic.double is another module's export of the same name as one of ours.
          for (const fn of [localTask, basic.double]) {
            const error = await failure(pool.submit(fn as () => number));
            assert.ok(error instanceof TypeError, `${round}, ${fn.name}: ${String(error)}`);
            assert.ok(error.message.includes(module.href), `${round}: ${error.message}`);
            assert.ok(error.message.includes(fn.name), `${round}: ${error.message}`);
          }
          await assertUsable(pool);
        }
      },
    );
  });
}

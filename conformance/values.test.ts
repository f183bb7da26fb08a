// R10 with real workers: values survive the round trip to a worker and back exactly as structured clone carries
// them, on every backend alike; a worker's output reaches the parent's stdout and stderr; and the task module's
// top level runs in the parent too.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import process from "node:process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { ProcessPoolExecutor } from "../mod.ts";
import { backends, runtime, taskModule } from "./_backends.ts";
import { runScript } from "./_scripts.ts";
import * as tasks from "./tasks/r10_values.ts";

const module = taskModule("r10_values.ts");
const LONG = { timeout: 30_000 };

// How many times r10_toplevel.ts had been evaluated in this realm when this file started (this file never
// imports it statically, so only the pools can have done it).
const EVALUATIONS = Symbol.for("procpool.conformance.r10.evaluations");
const evaluationsHere =
  () => ((globalThis as unknown as Record<symbol, { pid: number; isMainThread: boolean }[] | undefined>)[EVALUATIONS] ??
    []);
const evaluationsAtStart = evaluationsHere().length;

class Point {
  x: number;
  y: number;
  constructor(x: number, y: number) {
    this.x = x;
    this.y = y;
  }
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

// A copy of `value` that node:assert can compare on every runtime: an invalid Date becomes a marker object
// (assert compares getTime() with ===, so two invalid Dates never match), and a Map or Set becomes a tagged list
// of its entries in insertion order, which structured clone keeps (Bun's assert cannot match Map keys that are
// distinct but deep-equal objects). Holes, prototypes and cycles are kept as they are.
function comparable(value: unknown, seen = new Map<object, unknown>()): unknown {
  if (value instanceof Date && Number.isNaN(value.getTime())) return { "invalid Date": true };
  if (typeof value !== "object" || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    seen.set(value, out);
    for (const key of Object.keys(value)) {
      (out as unknown as Record<string, unknown>)[key] = comparable(
        (value as unknown as Record<string, unknown>)[key],
        seen,
      );
    }
    return out;
  }
  if (value instanceof Map) {
    const entries: unknown[] = [];
    seen.set(value, { "Map entries": entries });
    for (const [k, v] of value) entries.push([comparable(k, seen), comparable(v, seen)]);
    return seen.get(value);
  }
  if (value instanceof Set) {
    const items: unknown[] = [];
    seen.set(value, { "Set items": items });
    for (const v of value) items.push(comparable(v, seen));
    return seen.get(value);
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out = Object.create(proto) as Record<string, unknown>;
  seen.set(value, out);
  for (const key of Object.keys(value)) {
    Object.defineProperty(out, key, {
      value: comparable((value as Record<string, unknown>)[key], seen),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

// Sends `value` to a worker and back, typed as what was sent.
function roundTrip<T>(pool: ProcessPoolExecutor, value: T): Promise<T> {
  return pool.submit(tasks.identity, value).result() as Promise<T>;
}

function valueCases(): [string, unknown][] {
  const cyclic: Record<string, unknown> = { name: "cyclic" };
  cyclic.self = cyclic;
  const loop: unknown[] = [1];
  loop.push(loop);
  const shared = { s: 1 };
  const bytes = new ArrayBuffer(16);
  new Uint8Array(bytes).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255]);
  const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
  return [
    ["undefined", undefined],
    ["null", null],
    ["-0", -0],
    ["NaN", NaN],
    ["Infinity and -Infinity", [Infinity, -Infinity]],
    ["integers beyond Number.MAX_SAFE_INTEGER stay numbers", [2 ** 53, -(2 ** 53), 2 ** 60, 2 ** 64, 1e21]],
    ["fractions and extremes", [0.1, 5e-324, Number.MAX_VALUE, -1.5e-300]],
    ["a string with NUL, lone surrogate and emoji", "a\u0000b\ud800c😀"],
    ["booleans", [true, false]],
    ["BigInt", [2n ** 70n, -5n, 0n]],
    ["Date", new Date(Date.UTC(2020, 1, 2, 3, 4, 5, 6))],
    ["invalid Date", new Date(NaN)],
    ["RegExp with flags", /a+b?\//gimsuy],
    ["Map with object keys", new Map<unknown, unknown>([[1, "one"], ["k", { v: [1] }], [{ o: 1 }, new Set([1])]])],
    ["Set", new Set<unknown>([1, "1", { one: 1 }, undefined])],
    ["Uint8Array", new Uint8Array([0, 1, 255])],
    ["Float64Array with -0 and NaN", new Float64Array([1.5, -0, NaN, Infinity])],
    ["Int16Array over part of a buffer", new Int16Array(bytes, 2, 3)],
    ["BigInt64Array", new BigInt64Array([1n, -(2n ** 63n)])],
    ["Uint8ClampedArray and Float32Array", [new Uint8ClampedArray([0, 255]), new Float32Array([0.5])]],
    ["DataView", new DataView(bytes, 4, 8)],
    ["ArrayBuffer", bytes],
    ["nested", { a: [1, { b: [undefined, null, -0] }], m: new Map([["d", new Date(0)]]), s: new Set([[1, 2]]) }],
    ["array holding undefined", [undefined, 1, undefined]],
    ["cyclic object", cyclic],
    ["cyclic array", loop],
    ["shared references", { a: shared, b: shared, list: [shared] }],
    ["own __proto__ key", JSON.parse('{"__proto__": {"x": 1}, "y": 2}')],
    ["boxed primitives", [new Number(1), new String("s"), new Boolean(false)]],
    ["class instance (arrives as a plain object)", new Point(3, 4)],
    ["null-prototype object (arrives as a plain object)", nullProto],
    ["object with numeric-like and symbol-free keys", { "1": "a", "01": "b", "": "c", "-0": "d" }],
  ];
}

for (const backend of backends) {
  describe(`R10 values and output through real workers (${runtime}, ${backend})`, () => {
    it("R10.1 values come back from a worker exactly as structuredClone would copy them", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      const cases = valueCases();
      const results = await Promise.all(cases.map(([, value]) => pool.submit(tasks.identity, value)));
      const failures: string[] = [];
      cases.forEach(([name, value], i) => {
        try {
          assert.deepStrictEqual(comparable(results[i]), comparable(structuredClone(value)));
        } catch (error) {
          failures.push(`${name}: ${(error as Error).message.split("\n").slice(0, 12).join("\n")}`);
        }
      });
      assert.ok(
        failures.length === 0,
        `${failures.length} of ${cases.length} values differ:\n\n${failures.join("\n\n")}`,
      );
    });

    it("R10.1 a sparse array keeps its holes, as structuredClone does", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const sparse: unknown[] = [1, , 3, ,]; // eslint-disable-line no-sparse-arrays
      const back = await roundTrip(pool, sparse);
      assert.equal(back.length, 4);
      assert.deepEqual(Object.keys(back), ["0", "2"], "indices 1 and 3 are holes, not undefined");
      assert.deepStrictEqual(back, structuredClone(sparse));
    });

    it(
      "R10.1 identity, sign and references survive: -0, NaN, cycles, shared objects, class instances",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        assert.ok(Object.is(await roundTrip(pool, -0), -0));
        assert.ok(Number.isNaN(await roundTrip(pool, NaN)));
        assert.deepEqual(await pool.submit(tasks.describeValue, -0), {
          type: "[object Number]",
          negativeZero: true,
          isNaN: false,
        });
        assert.deepEqual(await pool.submit(tasks.describeValue, undefined), {
          type: "[object Undefined]",
          negativeZero: false,
          isNaN: false,
        });
        assert.equal((await pool.submit(tasks.describeValue, 1n)).type, "[object BigInt]");
        assert.equal((await pool.submit(tasks.describeValue, new Map())).type, "[object Map]");

        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        const back = await roundTrip(pool, cyclic);
        assert.notEqual(back, cyclic, "a copy, not the same object");
        assert.equal(back.self, back, "the cycle is rebuilt");

        const shared = { s: 1 };
        const pair = await roundTrip(pool, { a: shared, b: shared });
        assert.equal(pair.a, pair.b, "a shared object stays shared");

        const point = await roundTrip(pool, new Point(3, 4));
        assert.equal(Object.getPrototypeOf(point), Object.prototype, "a class instance arrives as a plain object");
        assert.deepEqual({ ...point }, { x: 3, y: 4 });
        assert.equal((point as { norm?: unknown }).norm, undefined);

        const typed = await roundTrip(pool, new BigInt64Array([7n]));
        assert.ok(typed instanceof BigInt64Array);
        assert.equal(typed[0], 7n);
      },
    );

    it("R10.1 errors travel as values with their class, message, cause and properties", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const inner = new RangeError("inner");
      const outer = Object.assign(new TypeError("outer", { cause: inner }), { code: "E_OUTER" });
      const back = await roundTrip(pool, { error: outer, list: [new SyntaxError("s")] });
      assert.ok(back.error instanceof TypeError);
      assert.equal(back.error.message, "outer");
      assert.equal((back.error as Error & { code?: string }).code, "E_OUTER");
      assert.ok(back.error.cause instanceof RangeError);
      assert.equal((back.error.cause as Error).message, "inner");
      assert.ok(back.list[0] instanceof SyntaxError);

      const aggregate = await roundTrip(pool, new AggregateError([new Error("a"), 2], "many"));
      assert.ok(aggregate instanceof AggregateError);
      assert.equal(aggregate.message, "many");
      assert.equal(aggregate.errors.length, 2);
      assert.equal((aggregate.errors[0] as Error).message, "a");
      assert.equal(aggregate.errors[1], 2);
    });

    it("R10.1 random values (fast-check anything) round-trip like structuredClone", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      const values = fc.anything({
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withTypedArray: true,
        // Holes are left to the fixed "sparse array" case above, so that the property looks for other differences.
        withSparseArray: false,
        withBoxedValues: true,
        withNullPrototype: true,
        withUnicodeString: true,
        maxDepth: 3,
      });
      await fc.assert(
        fc.asyncProperty(values, async (value) => {
          assert.deepStrictEqual(
            comparable(await pool.submit(tasks.identity, value)),
            comparable(structuredClone(value)),
          );
        }),
        { numRuns: 150 },
      );
    });

    it(
      "R10.2 a task's console.log / console.error and stream writes reach the parent's stdout / stderr",
      LONG,
      async () => {
        const tag = `t${Math.random().toString(36).slice(2, 10)}`;
        const run = await runScript(fileURLToPath(taskModule("r10_output_script.ts")), [backend, tag], 20_000);
        const context = `\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
        assert.equal(run.code, 0, `the script failed${context}`);
        assert.match(run.stdout, new RegExp(`parent got ${tag}`), context);
        assert.match(run.stdout, new RegExp(`r10 console\\.log ${tag}`), `console.log did not reach stdout${context}`);
        assert.match(
          run.stdout,
          new RegExp(`r10 stdout\\.write ${tag}`),
          `stdout.write did not reach stdout${context}`,
        );
        assert.match(
          run.stderr,
          new RegExp(`r10 console\\.error ${tag}`),
          `console.error did not reach stderr${context}`,
        );
        assert.match(
          run.stderr,
          new RegExp(`r10 stderr\\.write ${tag}`),
          `stderr.write did not reach stderr${context}`,
        );
        assert.doesNotMatch(run.stdout, /r10 console\.error|r10 stderr\.write/, "stderr lines went to stdout");
        assert.match(run.stdout, /parent: BrokenProcessPool/, context);
        assert.match(
          run.stderr,
          /Exception in initializer:/,
          `the initializer's report did not reach stderr${context}`,
        );
        assert.match(run.stderr, new RegExp(`r10 initializer failed ${tag}`), context);
        assert.match(run.stdout, /parent done/, context);
      },
    );

    it("R10.3 the task module's top level runs in the parent too, once, at the URL given", LONG, async () => {
      assert.equal(evaluationsAtStart, 0, "nothing imported r10_toplevel.ts before the pools did");
      const url = taskModule("r10_toplevel.ts");
      await using pool = new ProcessPoolExecutor({ module: url, maxWorkers: 1, backend });
      const inWorker = await pool.submit<{ pid: number; isMainThread: boolean }[]>("evaluations");
      const here = evaluationsHere();
      assert.equal(here.length, 1, "the parent evaluated the module once");
      assert.deepEqual(here[0], { pid: process.pid, isMainThread: true }, "…in the parent itself");
      assert.equal(inWorker.length, 1, "each worker evaluates it once too");
      if (backend === "process") assert.notEqual(inWorker[0].pid, process.pid);
      else assert.equal(inWorker[0].isMainThread, false);
      const again = await import(url.href);
      assert.equal(evaluationsHere().length, 1, "the pool's import is the module instance the caller gets");
      assert.equal(typeof again.evaluations, "function");
    });
  });
}

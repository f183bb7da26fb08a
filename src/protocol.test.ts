// Unit tests of the value codec: what a task's arguments, results and errors look like after the trip (R10.1, R2.3).

import "./_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type ClassResolver, decode, encode, type Encoded } from "./protocol.ts";
import { typedArrayKinds } from "./_test_utils.ts";

// The fork transport sends JSON text; the thread transports pass the encoded tree by structured clone. Check that
// both paths give the same value, and return the one that went through JSON.
function roundTrip(value: unknown, resolve?: ClassResolver): unknown {
  const encoded = encode(value);
  const viaJson = decode(JSON.parse(JSON.stringify(encoded)) as Encoded, resolve);
  const direct = decode(encoded, resolve);
  assertSame(direct, viaJson);
  return viaJson;
}

// A structural comparison that behaves alike on the three runtimes: Object.is for primitives (so -0 and NaN
// count), invalid Dates equal each other, Map and Set entries compared in insertion order (which the codec and
// structured clone both keep), errors by class, name, message, own keys, cause and errors, and cycles followed
// once. assert.deepStrictEqual is used as well where it is reliable; this covers the cases where it is not
// (Node 20 calls two invalid Dates different; Bun mismatches Map keys that are deep-equal objects, and recurses
// forever on a Map or Set that contains itself).
function assertSame(actual: unknown, expected: unknown, path = "value", seen = new Map<object, object>()): void {
  if (expected === null || (typeof expected !== "object" && typeof expected !== "function")) {
    assert.ok(Object.is(actual, expected), `${path}: ${String(actual)} is not ${String(expected)}`);
    return;
  }
  assert.ok(actual !== null && typeof actual === "object", `${path}: expected an object`);
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  if (seen.has(e)) {
    assert.equal(seen.get(e), a, `${path}: a shared or cyclic reference was not kept`);
    return;
  }
  seen.set(e, a);
  assert.equal(Object.getPrototypeOf(a), Object.getPrototypeOf(e), `${path}: different prototypes`);
  const tag = Object.prototype.toString.call(e);
  assert.equal(Object.prototype.toString.call(a), tag, `${path}: different kinds`);
  if (e instanceof Date) {
    assert.ok(Object.is((a as unknown as Date).getTime(), e.getTime()), `${path}: different times`);
  } else if (e instanceof RegExp) {
    assert.equal(String(a), String(e), `${path}: different patterns`);
  } else if (e instanceof Number || e instanceof String || e instanceof Boolean || tag === "[object BigInt]") {
    assert.ok(Object.is(a.valueOf(), e.valueOf()), `${path}: different boxed values`);
  } else if (ArrayBuffer.isView(e)) {
    const av = a as unknown as ArrayBufferView;
    assert.deepEqual(
      [...new Uint8Array(av.buffer, av.byteOffset, av.byteLength)],
      [...new Uint8Array(e.buffer, e.byteOffset, e.byteLength)],
      `${path}: different bytes`,
    );
  } else if (e instanceof ArrayBuffer) {
    assert.deepEqual(
      [...new Uint8Array(a as unknown as ArrayBuffer)],
      [...new Uint8Array(e)],
      `${path}: different bytes`,
    );
  } else if (e instanceof Map) {
    const ae = [...(a as unknown as Map<unknown, unknown>)];
    const ee = [...e];
    assert.equal(ae.length, ee.length, `${path}: different sizes`);
    ee.forEach(([k, v], i) => {
      assertSame(ae[i][0], k, `${path}.key[${i}]`, seen);
      assertSame(ae[i][1], v, `${path}.get(${i})`, seen);
    });
  } else if (e instanceof Set) {
    const ai = [...(a as unknown as Set<unknown>)];
    const ei = [...e];
    assert.equal(ai.length, ei.length, `${path}: different sizes`);
    ei.forEach((v, i) => assertSame(ai[i], v, `${path}.item[${i}]`, seen));
  } else if (e instanceof Error) {
    const ae = a as unknown as Error;
    assert.equal(ae.name, e.name, `${path}: different names`);
    assert.equal(ae.message, e.message, `${path}: different messages`);
    for (const key of ["cause", "errors"]) {
      assert.equal(Object.hasOwn(a, key), Object.hasOwn(e, key), `${path}.${key}: presence differs`);
      if (Object.hasOwn(e, key)) assertSame(a[key], e[key], `${path}.${key}`, seen);
    }
  }
  if (Array.isArray(e)) assert.equal((a as unknown as unknown[]).length, e.length, `${path}: different lengths`);
  if (!ArrayBuffer.isView(e)) {
    assert.deepEqual(Object.keys(a), Object.keys(e), `${path}: different own enumerable keys`);
    for (const key of Object.keys(e)) assertSame(a[key], e[key], `${path}.${key}`, seen);
  }
}

// Whether assert.deepStrictEqual can judge `value` alike on every runtime (see assertSame above).
function deepStrictEqualIsReliable(value: unknown, seen = new Set<unknown>()): boolean {
  if (value === null || typeof value !== "object") return true;
  if (seen.has(value)) return false;
  seen.add(value);
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  if (ArrayBuffer.isView(value)) return true;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      if ((k !== null && typeof k === "object") || !deepStrictEqualIsReliable(v, seen)) return false;
    }
    return true;
  }
  if (value instanceof Set) {
    for (const v of value) if (v !== null && typeof v === "object") return false;
    return true;
  }
  return Object.values(value).every((v) => deepStrictEqualIsReliable(v, seen));
}

// Encodes `value` and checks the encoded tree survives JSON.stringify/JSON.parse exactly.
function assertJsonSafe(value: unknown): void {
  const encoded = encode(value);
  assert.deepStrictEqual(JSON.parse(JSON.stringify(encoded)), encoded);
}

describe("encode/decode of values (R10.1)", () => {
  it("R10.1 primitives survive: undefined, null, booleans, strings, -0, NaN, ±Infinity, numbers", () => {
    const values = [
      undefined,
      null,
      true,
      false,
      "",
      "text",
      "\u0000",
      "\ud800 lone",
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      1.5,
      -7,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      Number.MAX_SAFE_INTEGER,
    ];
    for (const v of values) {
      const back = roundTrip(v);
      assert.ok(Object.is(back, v), `${String(v)} came back as ${String(back)}`);
    }
    const inArray = roundTrip([undefined, -0, NaN, Infinity, -Infinity]) as unknown[];
    assert.equal(inArray.length, 5);
    assert.ok(Object.is(inArray[0], undefined) && 0 in inArray);
    assert.ok(Object.is(inArray[1], -0));
    assert.ok(Number.isNaN(inArray[2]));
    assert.equal(inArray[3], Infinity);
    assert.equal(inArray[4], -Infinity);
  });

  it("R10.1 an own property whose value is undefined stays an own property", () => {
    const back = roundTrip({ a: undefined, b: 1 }) as Record<string, unknown>;
    assert.ok(Object.hasOwn(back, "a"));
    assert.deepStrictEqual(back, { a: undefined, b: 1 });
  });

  it("R10.1 BigInt survives, small, negative and huge", () => {
    for (const v of [0n, 1n, -1n, 2n ** 64n, -(2n ** 200n) + 3n]) {
      assert.equal(roundTrip(v), v);
    }
  });

  it("R10.1 Date survives, the invalid Date too", () => {
    const d = roundTrip(new Date(1700000000123)) as Date;
    assert.ok(d instanceof Date);
    assert.equal(d.getTime(), 1700000000123);
    const invalid = roundTrip(new Date(NaN)) as Date;
    assert.ok(invalid instanceof Date);
    assert.ok(Number.isNaN(invalid.getTime()));
    const extremes = roundTrip([new Date(8.64e15), new Date(-8.64e15)]) as Date[];
    assert.deepEqual(extremes.map((x) => x.getTime()), [8.64e15, -8.64e15]);
  });

  it("R10.1 RegExp survives with its source and flags", () => {
    for (const re of [/a+b/g, /^x$/imsuy, new RegExp("a\\/[/]", "d"), /(?<name>\d)/u]) {
      const back = roundTrip(re) as RegExp;
      assert.ok(back instanceof RegExp);
      assert.equal(back.source, re.source);
      assert.equal(back.flags, re.flags);
    }
  });

  it("R10.1 Map and Set survive with keys of any type, in insertion order", () => {
    const key = { k: 1 };
    const map = new Map<unknown, unknown>([[1, "one"], ["1", "string one"], [key, [1, 2]], [undefined, null], [
      NaN,
      -0,
    ]]);
    const back = roundTrip(map) as Map<unknown, unknown>;
    assert.ok(back instanceof Map);
    assertSame(back, map);
    const set = new Set<unknown>([3, "3", { s: 1 }, undefined, 10n]);
    const setBack = roundTrip(set) as Set<unknown>;
    assert.ok(setBack instanceof Set);
    assertSame(setBack, set);
    assert.deepStrictEqual(roundTrip(new Map()), new Map());
    assert.deepStrictEqual(roundTrip(new Set()), new Set());
  });

  it("R10.1 every kind of typed array survives, also one with a byteOffset into a larger buffer", () => {
    for (const [name, View] of typedArrayKinds()) {
      const per = (View as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      const buffer = new ArrayBuffer(per * 8);
      new Uint8Array(buffer).forEach((_, i, all) => (all[i] = (i * 37 + 11) & 0xff));
      for (const [offset, length] of [[0, 8], [per * 2, 5], [per * 3, 0]]) {
        const view = new View(buffer, offset, length);
        let back: unknown;
        assert.doesNotThrow(() => {
          back = roundTrip(view);
        }, `${name} could not be sent`);
        assert.equal(Object.prototype.toString.call(back), `[object ${name}]`);
        assert.ok(back instanceof View, `${name} came back as another class`);
        const out = back as unknown as ArrayLike<unknown> & ArrayBufferView;
        assert.equal(out.length, length);
        assert.equal(out.byteLength, view.byteLength);
        assert.deepStrictEqual(
          new Uint8Array(out.buffer, out.byteOffset, out.byteLength),
          new Uint8Array(buffer, offset, view.byteLength),
        );
        assert.deepStrictEqual(back, view);
      }
    }
  });

  it("R10.1 typed arrays keep -0, NaN and bigint elements exactly", () => {
    const floats = roundTrip(new Float64Array([-0, NaN, Infinity, 1e-310])) as Float64Array;
    assert.ok(Object.is(floats[0], -0));
    assert.ok(Number.isNaN(floats[1]));
    assert.equal(floats[2], Infinity);
    assert.equal(floats[3], 1e-310);
    const bigs = roundTrip(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n])) as BigInt64Array;
    assert.deepEqual([...bigs], [-(2n ** 63n), 2n ** 63n - 1n]);
  });

  it("R10.1 DataView survives, also with a byteOffset", () => {
    const buffer = new ArrayBuffer(12);
    new Uint8Array(buffer).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const view = new DataView(buffer, 3, 5);
    const back = roundTrip(view) as DataView;
    assert.ok(back instanceof DataView);
    assert.equal(back.byteLength, 5);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => back.getUint8(i)), [4, 5, 6, 7, 8]);
  });

  it("R10.1 ArrayBuffer survives, empty and large", () => {
    const bytes = new Uint8Array(70000).map((_, i) => (i * 7) & 0xff);
    const back = roundTrip(bytes.buffer) as ArrayBuffer;
    assert.ok(back instanceof ArrayBuffer);
    assert.deepStrictEqual(new Uint8Array(back), bytes);
    const empty = roundTrip(new ArrayBuffer(0)) as ArrayBuffer;
    assert.ok(empty instanceof ArrayBuffer);
    assert.equal(empty.byteLength, 0);
  });

  it("R10.1 a typed array sent together with its ArrayBuffer still views that buffer, as structured clone keeps it", () => {
    const buffer = new ArrayBuffer(8);
    const value = { buffer, whole: new Uint8Array(buffer), tail: new Uint8Array(buffer, 4, 4) };
    const cloned = structuredClone(value);
    assert.equal(cloned.whole.buffer, cloned.buffer);
    const back = roundTrip(value) as typeof value;
    assert.equal(back.whole.buffer, back.buffer, "the view no longer shares memory with the buffer sent beside it");
    assert.equal(back.tail.buffer, back.buffer);
    assert.equal(back.tail.byteOffset, 4);
  });

  it("R10.1 an array with holes comes back the same through JSON (fork) as directly (threads): undefined, never null", () => {
    // deno-lint-ignore no-sparse-arrays
    for (const sparse of [[, 1], [1, , 3], new Array(3), ["a", , "b"]]) {
      const encoded = encode(sparse);
      const viaJson = decode(JSON.parse(JSON.stringify(encoded)) as Encoded) as unknown[];
      const direct = decode(encoded) as unknown[];
      assert.equal(viaJson.length, sparse.length);
      for (let i = 0; i < sparse.length; i++) {
        assert.equal(viaJson[i], sparse[i], `index ${i} came back as ${String(viaJson[i])} through JSON`);
        assert.equal(direct[i], sparse[i]);
      }
    }
  });

  it("R10.1 nested objects and arrays survive", () => {
    const v = { a: [1, { b: [[], {}, [null, [undefined]]] }], c: { d: { e: { f: "deep" } } }, "": "empty key", "1": 1 };
    assert.deepStrictEqual(roundTrip(v), v);
  });

  it("R10.1 cyclic objects, arrays, Maps and Sets survive with their cycles", () => {
    const o: Record<string, unknown> = { name: "o" };
    o.self = o;
    const a: unknown[] = [1];
    a.push(a);
    const m = new Map<unknown, unknown>();
    m.set(m, m);
    const s = new Set<unknown>();
    s.add(s);
    const back = roundTrip({ o, a, m, s }) as { o: typeof o; a: unknown[]; m: Map<unknown, unknown>; s: Set<unknown> };
    assert.equal(back.o.self, back.o);
    assert.equal(back.a[1], back.a);
    assert.equal(back.m.get(back.m), back.m);
    assert.ok(back.s.has(back.s));
    const top: Record<string, unknown> = {};
    top.child = { parent: top, list: [top] };
    const topBack = roundTrip(top) as { child: { parent: unknown; list: unknown[] } };
    assert.equal(topBack.child.parent, topBack);
    assert.equal(topBack.child.list[0], topBack);
    assertSame(topBack, structuredClone(top));
  });

  it("R10.1 shared references stay shared: the same object twice comes back as one object", () => {
    const shared = { n: 1 };
    const date = new Date(5);
    const map = new Map([[1, 2]]);
    const bytes = new Uint8Array([1, 2]);
    const error = new Error("shared");
    const v = {
      x: shared,
      y: shared,
      z: [shared, date, map, bytes, error],
      date,
      map,
      bytes,
      error,
      m: new Map([[shared, shared]]),
    };
    const back = roundTrip(v) as typeof v;
    assert.equal(back.x, back.y);
    assert.equal(back.z[0], back.x);
    assert.equal(back.z[1], back.date);
    assert.equal(back.z[2], back.map);
    assert.equal(back.z[3], back.bytes);
    assert.equal(back.z[4], back.error);
    const [[k, val]] = [...back.m];
    assert.equal(k, back.x);
    assert.equal(val, back.x);
  });

  it('R10.1 an object with a "\\u0000" key comes back as the same plain object (the codec\'s tag is escaped)', () => {
    for (
      const v of [
        { "\u0000": "u" },
        { "\u0000": "r", v: 0 },
        { "\u0000": "E", c: "TypeError", n: "TypeError", m: "fake" },
        { "\u0000": { "\u0000": "n", v: "NaN" } },
        { "\u0000": "M", v: [[1, 2]], other: undefined },
      ]
    ) {
      const back = roundTrip(v);
      assert.deepStrictEqual(back, v);
      assert.equal(Object.getPrototypeOf(back), Object.prototype);
    }
    const cyclic: Record<string, unknown> = { "\u0000": "O" };
    cyclic.me = cyclic;
    const back = roundTrip(cyclic) as Record<string, unknown>;
    assert.equal(back.me, back);
    assert.equal(back["\u0000"], "O");
  });

  it('R10.1 an own "__proto__" key stays an own data property and does not change the prototype', () => {
    const v = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    assert.ok(Object.hasOwn(v, "__proto__"));
    for (const input of [v, { nested: v }, JSON.parse('{"__proto__": 1, "\\u0000": 2}')]) {
      const back = roundTrip(input) as Record<string, unknown>;
      assert.deepStrictEqual(back, input);
    }
    const back = roundTrip(v) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.ok(Object.hasOwn(back, "__proto__"));
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(back, "__proto__")?.value, { polluted: true });
    assert.equal((back as { polluted?: unknown }).polluted, undefined);
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  });

  it("R10.1 class instances arrive as plain objects with their own enumerable fields, as with structured clone", () => {
    class Point {
      x = 1;
      y = { z: [2] };
      #secret = 3;
      get sum(): number {
        return this.x + this.#secret;
      }
      norm(): number {
        return this.x;
      }
    }
    const p = new Point();
    const back = roundTrip(p) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.deepStrictEqual(back, { x: 1, y: { z: [2] } });
    assert.deepStrictEqual(back, structuredClone(p));
  });

  it("R10.1 symbol-keyed properties do not travel, and what Object.prototype's enumerable properties add stays home", () => {
    const tag = Symbol("tag");
    const value = { a: 1, [tag]: { hidden: true }, b: { c: 2 } };
    const back = roundTrip(value) as Record<PropertyKey, unknown>;
    assert.deepStrictEqual(back, { a: 1, b: { c: 2 } });
    assert.deepStrictEqual(back, structuredClone(value));
    // Under a careless library's Object.prototype addition, a record still comes back with its own keys only.
    Object.defineProperty(Object.prototype, "inherited", { value: { x: 1 }, enumerable: true, configurable: true });
    try {
      const row = roundTrip({ a: 1, nested: { b: [2] } }) as Record<string, unknown>;
      assert.deepStrictEqual(Object.keys(row), ["a", "nested"]);
      assert.deepStrictEqual(Object.keys(row.nested as object), ["b"]);
    } finally {
      delete (Object.prototype as { inherited?: unknown }).inherited;
    }
  });

  it("R10.1 large plain data (thousands of records) travels as JSON text and comes back exactly", () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({ x: i, y: i / 3, name: `r${i}`, ok: i % 2 === 0, n: null }));
    // An own "__proto__" key and the codec's tag key, as only JSON.parse makes them, and a lone surrogate.
    const value = JSON.parse('{"__proto__": {"polluted": true}, "\\u0000": "tag key"}') as Record<string, unknown>;
    value.lone = "\ud800";
    value.rows = rows;
    const encoded = encode([value]) as Record<string, unknown>;
    assert.equal(encoded["\u0000"], "J", "large plain data travels as text");
    const back = (roundTrip([value]) as unknown[])[0] as Record<string, unknown>;
    assertSame(back, value);
    assert.ok(Object.hasOwn(back, "__proto__"));
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.equal(back.lone, "\ud800");
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  });

  it("R10.1 large data with what JSON cannot carry takes the exact path: -0, NaN, undefined, holes, shared objects", () => {
    const shared = { s: 1 };
    const base = () => Array.from({ length: 5000 }, (_, i) => ({ i }));
    const cases: [string, (rows: Record<string, unknown>[]) => void][] = [
      ["-0", (rows) => (rows[4999].i = -0)],
      ["NaN", (rows) => (rows[10].i = NaN)],
      ["undefined", (rows) => (rows[20].i = undefined)],
      ["a shared object", (rows) => ((rows[1].s = shared), (rows[2].s = shared))],
      ["a cycle", (rows) => (rows[3].self = rows)],
      ["a Date", (rows) => (rows[5].d = new Date(0))],
      ["a hole", (rows) => delete rows[6]],
    ];
    for (const [what, change] of cases) {
      const rows = base();
      change(rows);
      const encoded = encode(rows) as unknown;
      assert.ok(Array.isArray(encoded), `${what}: not sent as JSON text`);
      const back = roundTrip(rows) as Record<string, unknown>[];
      assertSame(back, rows, what);
    }
    const back = roundTrip([{ a: shared, b: shared, pad: base() }]) as { a: object; b: object }[];
    assert.equal(back[0].a, back[0].b, "a shared object stays shared");
  });

  it("R10.1 a value encoded as JSON text is a snapshot: later changes by the caller do not travel", () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({ i }));
    const encoded = encode(rows);
    rows[0].i = 99;
    assert.equal((decode(encoded) as { i: number }[])[0].i, 0);
  });

  it("R10.1 boxed primitives survive as boxed primitives", () => {
    const values: object[] = [
      new Number(3),
      new Number(-0),
      new Number(NaN),
      new String("s"),
      new String(""),
      new Boolean(false),
      Object(10n),
    ];
    for (const v of values) {
      const back = roundTrip(v) as object;
      assert.equal(typeof back, "object");
      assert.equal(Object.getPrototypeOf(back), Object.getPrototypeOf(v));
      assert.ok(Object.is(back.valueOf(), v.valueOf()), `${String(v)} came back as ${String(back)}`);
      assert.deepStrictEqual(back, v);
    }
  });

  it("R10.1 the encoded form survives JSON.stringify/JSON.parse unchanged (the fork transport)", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.c = cyclic;
    const samples: unknown[] = [
      undefined,
      -0,
      NaN,
      Infinity,
      10n,
      new Date(NaN),
      /x/g,
      new Map([[{}, new Set([1])]]),
      new Float64Array([-0, NaN]),
      new ArrayBuffer(3),
      { "\u0000": 1, "__proto__ ": 2 },
      JSON.parse('{"__proto__": 1}'),
      cyclic,
      new Error("e", { cause: new TypeError("c") }),
      new AggregateError([new RangeError("r")], "agg"),
      new String("boxed"),
      [, 1],
    ];
    for (const v of samples) assertJsonSafe(v);
  });
});

describe("encode/decode of errors (R2.3)", () => {
  it("R2.3 an Error keeps its name, message and stack; name and message stay non-enumerable", () => {
    const original = new Error("it broke");
    const back = roundTrip(original) as Error;
    assert.ok(back instanceof Error);
    assert.equal(Object.getPrototypeOf(back), Error.prototype);
    assert.equal(back.name, "Error");
    assert.equal(back.message, "it broke");
    assert.equal(back.stack, original.stack);
    assert.deepEqual(Object.keys(back), []);
    assert.deepStrictEqual(back, original);
    const empty = roundTrip(new Error()) as Error;
    assert.equal(empty.message, "");
  });

  it("R2.3 built-in error classes come back as the same class (TypeError stays TypeError)", () => {
    for (const Class of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
      const back = roundTrip(new Class(`a ${Class.name}`)) as Error;
      assert.ok(back instanceof Class);
      assert.equal(Object.getPrototypeOf(back), Class.prototype);
      assert.equal(back.constructor, Class);
      assert.equal(back.name, Class.name);
      assert.ok(!Object.hasOwn(back, "name"), `${Class.name} got an own name`);
      assert.equal(back.message, `a ${Class.name}`);
      assert.equal(String(back), `${Class.name}: a ${Class.name}`);
    }
  });

  it("R2.3 a rebuilt built-in error is a genuine one of its class: assert.deepStrictEqual to the original holds", () => {
    for (
      const original of [
        new TypeError("t"),
        new RangeError("r"),
        new SyntaxError("s"),
        new ReferenceError("f"),
        new EvalError("e"),
        new URIError("u"),
        new AggregateError([1], "a"),
      ]
    ) {
      const back = roundTrip(original);
      assert.deepStrictEqual(back, original, `${original.name} is not deep-equal after the trip`);
    }
  });

  it("R2.3 own enumerable properties (code, …) survive with their values and stay enumerable", () => {
    const original = Object.assign(new Error("with props"), {
      code: "E_THING",
      errno: -2,
      details: { path: "/tmp/x", list: [1, 2n] },
      missing: undefined,
    });
    const back = roundTrip(original) as typeof original;
    assert.equal(back.code, "E_THING");
    assert.equal(back.errno, -2);
    assert.deepStrictEqual(back.details, { path: "/tmp/x", list: [1, 2n] });
    assert.ok(Object.hasOwn(back, "missing"));
    assert.deepEqual(Object.keys(back).sort(), ["code", "details", "errno", "missing"]);
    assert.deepStrictEqual(back, original);
  });

  it("R2.3 a name set on the instance survives as that own property", () => {
    const original = new Error("renamed");
    original.name = "CustomName";
    const back = roundTrip(original) as Error;
    assert.equal(back.name, "CustomName");
    assert.ok(Object.hasOwn(back, "name"));
    assert.ok(String(back).startsWith("CustomName: renamed"));
    assert.deepStrictEqual(back, original);
  });

  it("R2.3 cause survives, recursively, whatever the cause's type", () => {
    const original = new Error("top", {
      cause: new TypeError("middle", { cause: new RangeError("bottom", { cause: { code: 7, at: new Date(3) } }) }),
    });
    const back = roundTrip(original) as Error & { cause: Error & { cause: Error & { cause: unknown } } };
    assert.ok(back.cause instanceof TypeError);
    assert.equal(back.cause.message, "middle");
    assert.ok(back.cause.cause instanceof RangeError);
    assert.equal(back.cause.cause.message, "bottom");
    assert.deepStrictEqual(back.cause.cause.cause, { code: 7, at: new Date(3) });
    assert.ok(!Object.keys(back).includes("cause"), "a cause given as an option is not enumerable");
    assertSame(back, original);
    for (const cause of ["text", 0, null, undefined, 5n, [1, new Error("in array")]]) {
      const e = roundTrip(new Error("x", { cause })) as Error;
      assert.ok(Object.hasOwn(e, "cause"));
      assertSame(e.cause, cause);
    }
    assert.ok(!Object.hasOwn(roundTrip(new Error("no cause")) as Error, "cause"));
  });

  it("R2.3 a cause set by assignment (an own enumerable property) stays own and enumerable", () => {
    const original = new Error("legacy style");
    (original as Error & { cause: unknown }).cause = new Error("assigned");
    assert.deepEqual(Object.keys(original), ["cause"]);
    const back = roundTrip(original) as Error & { cause: Error };
    assert.equal(back.cause.message, "assigned");
    assert.deepEqual(Object.keys(back), ["cause"], "the assigned cause lost its enumerability");
  });

  it("R2.3 a cycle through cause survives", () => {
    const e = new Error("loop");
    Object.defineProperty(e, "cause", { value: e, writable: true, configurable: true, enumerable: false });
    const back = roundTrip(e) as Error;
    assert.equal(back.message, "loop");
    assert.equal(back.cause, back);
  });

  it("R2.3 AggregateError comes back as AggregateError with its errors, recursively", () => {
    const original = new AggregateError(
      [new TypeError("first"), "second", new AggregateError([new URIError("inner")], "nested")],
      "several",
      { cause: "why" },
    );
    const back = roundTrip(original) as AggregateError;
    assert.ok(back instanceof AggregateError);
    assert.equal(back.message, "several");
    assert.equal(back.cause, "why");
    assert.ok(Array.isArray(back.errors));
    assert.equal(back.errors.length, 3);
    assert.ok(back.errors[0] instanceof TypeError);
    assert.equal(back.errors[0].message, "first");
    assert.equal(back.errors[1], "second");
    assert.ok(back.errors[2] instanceof AggregateError);
    assert.ok(back.errors[2].errors[0] instanceof URIError);
    assert.ok(!Object.keys(back).includes("errors"));
    assertSame(back, original);
  });

  it("R2.3 a class the resolver knows comes back as that class, without running its constructor", () => {
    let constructed = 0;
    class MyError extends Error {
      static {
        this.prototype.name = "MyError";
      }
      code: string;
      constructor(required: { code: string }, message: string) {
        super(message);
        constructed++;
        this.code = required.code;
      }
      describe(): string {
        return `${this.name}[${this.code}]: ${this.message}`;
      }
    }
    const original = new MyError({ code: "E42" }, "custom");
    constructed = 0;
    const asked: string[] = [];
    const resolve: ClassResolver = (name) => {
      asked.push(name);
      return name === "MyError" ? MyError as never : undefined;
    };
    const back = roundTrip(original, resolve) as MyError;
    assert.equal(constructed, 0, "the class's constructor ran during decoding");
    assert.ok(asked.includes("MyError"));
    assert.ok(back instanceof MyError);
    assert.ok(back instanceof Error);
    assert.equal(back.name, "MyError");
    assert.equal(back.message, "custom");
    assert.equal(back.code, "E42");
    assert.equal(back.describe(), "MyError[E42]: custom");
    assert.equal(back.stack, original.stack);
    assert.deepStrictEqual(back, original);
  });

  it("R2.3 an unknown class comes back as an Error with the original name", () => {
    class NotExported extends Error {
      static {
        this.prototype.name = "NotExported";
      }
    }
    class SetsOwnName extends TypeError {
      constructor(message: string) {
        super(message);
        this.name = "SetsOwnName";
      }
    }
    const a = roundTrip(new NotExported("a")) as Error;
    assert.equal(Object.getPrototypeOf(a), Error.prototype);
    assert.equal(a.name, "NotExported");
    assert.equal(a.message, "a");
    assert.ok(String(a).startsWith("NotExported: a"));
    assert.deepEqual(Object.keys(a), []);
    const b = roundTrip(new SetsOwnName("b")) as Error;
    assert.equal(Object.getPrototypeOf(b), Error.prototype);
    assert.equal(b.name, "SetsOwnName");
    assert.equal(b.message, "b");
    const c = roundTrip(new NotExported("c"), () => undefined) as Error;
    assert.equal(c.name, "NotExported");
  });

  it("R2.3 an error whose message and name live on its prototype (DOMException) keeps both", () => {
    const original = new DOMException("the operation was aborted by the user", "AbortError");
    assert.ok(original instanceof Error);
    const back = roundTrip(original) as Error;
    assert.ok(back instanceof Error);
    assert.equal(back.name, "AbortError");
    assert.equal(back.message, "the operation was aborted by the user", "the DOMException's message was lost");
  });

  it("R2.3 errors inside other values survive (a Map value, an array, an error property)", () => {
    const inner = new RangeError("inner");
    const outer = Object.assign(new Error("outer"), { related: inner });
    const back = roundTrip({ list: [inner], map: new Map([["e", outer]]) }) as {
      list: RangeError[];
      map: Map<string, Error & { related: RangeError }>;
    };
    assert.ok(back.list[0] instanceof RangeError);
    assert.equal(back.map.get("e")!.related, back.list[0]);
    assert.equal(back.map.get("e")!.message, "outer");
  });
});

describe("encode of values that cannot travel (R2.6)", () => {
  it("R2.6 functions, symbols, WeakMap, WeakSet, WeakRef and Promise throw a TypeError naming the problem", () => {
    const cases: [unknown, RegExp][] = [
      [function named() {}, /function/],
      [() => 1, /function/],
      [class Klass {}, /function/],
      [async () => {}, /function/],
      [Symbol("sym"), /symbol/i],
      [new WeakMap(), /WeakMap/],
      [new WeakSet(), /WeakSet/],
      [new WeakRef({}), /WeakRef/],
      [Promise.resolve(1), /Promise/],
    ];
    for (const [value, pattern] of cases) {
      assert.throws(() => encode(value), (error: unknown) => {
        assert.ok(error instanceof TypeError, `${String(pattern)}: not a TypeError`);
        assert.match(error.message, pattern);
        return true;
      });
    }
  });

  it("R2.6 an uncloneable value nested in an object, array, Map, Set or error property throws the same TypeError", () => {
    const fn = () => 0;
    for (
      const value of [
        { a: { b: fn } },
        [1, [Symbol("deep")]],
        new Map([["k", new WeakMap()]]),
        new Set([Promise.resolve()]),
        Object.assign(new Error("e"), { callback: fn }),
        new Error("e", { cause: fn }),
      ]
    ) {
      assert.throws(() => encode(value), TypeError);
    }
  });

  it("R2.6 structured clone rejects the same values (the codec carries no less and no more)", () => {
    for (const value of [() => 0, Symbol("s"), new WeakMap(), new WeakSet(), Promise.resolve()]) {
      assert.throws(() => structuredClone(value));
      assert.throws(() => encode(value), TypeError);
    }
  });
});

describe("encode/decode properties (R10.1)", () => {
  const anything = fc.anything({
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withBoxedValues: true,
    withNullPrototype: false,
    withObjectString: true,
    stringUnit: "binary",
  });

  it("R10.1 for any value, the encoded form survives JSON and decode(JSON.parse(JSON.stringify(encode(v)))) deep-equals v", () => {
    fc.assert(
      fc.property(anything, (v) => {
        const encoded = encode(v);
        assert.deepStrictEqual(JSON.parse(JSON.stringify(encoded)), encoded);
        const viaJson = decode(JSON.parse(JSON.stringify(encoded)) as Encoded);
        assertSame(viaJson, v);
        assertSame(decode(encoded), v);
        if (deepStrictEqualIsReliable(v)) assert.deepStrictEqual(viaJson, v);
      }),
      { numRuns: 300 },
    );
  });

  it("R10.1 for any value, the codec and structuredClone give the same value", () => {
    fc.assert(
      fc.property(anything, (v) => {
        const viaCodec = decode(JSON.parse(JSON.stringify(encode(v))) as Encoded);
        const cloned = structuredClone(v);
        assertSame(viaCodec, cloned);
        if (deepStrictEqualIsReliable(v)) assert.deepStrictEqual(viaCodec, cloned);
      }),
      { numRuns: 300 },
    );
  });
});

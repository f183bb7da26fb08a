// Unit tests of transfer() and of how the codec treats binary data: base64 text for JSON transports, buffers as
// themselves for cloning ones, marked buffers moved only once a whole value encoded (R9, R10.1).

import "./_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProcessPoolExecutor } from "../mod.ts";
import { Buffers, decode, encode, type Encoded, joinBuffers } from "./protocol.ts";
import { isMarked, transfer } from "./transfer.ts";
import { memoryBackend, within } from "./_test_utils.ts";

describe("transfer()", () => {
  it("R9 anything but an ArrayBuffer or a view of one is a TypeError at the call that names what it got", () => {
    fc.assert(
      fc.property(fc.anything({ withTypedArray: false, withBoxedValues: true, withMap: true, withSet: true }), (x) => {
        assert.throws(() => transfer(x), (error: unknown) => {
          assert.ok(error instanceof TypeError);
          assert.match(error.message, /^transfer\(\): expected an ArrayBuffer, a typed array or a DataView, got /);
          return true;
        });
      }),
    );
  });

  it("R9 shared memory, a buffer marked twice and a detached buffer are TypeErrors at the call", () => {
    assert.throws(() => transfer(new SharedArrayBuffer(8)), /SharedArrayBuffer is over shared memory/);
    assert.throws(() => transfer(new Int32Array(new SharedArrayBuffer(8))), /Int32Array is over shared memory/);
    const bytes = new Uint8Array(4);
    transfer(bytes);
    assert.throws(() => transfer(bytes), /already marked/);
    assert.throws(() => transfer(new DataView(bytes.buffer)), /already marked/, "a second view of one buffer");
    const moved = new ArrayBuffer(4);
    structuredClone(moved, { transfer: [moved] });
    assert.throws(() => transfer(moved), /detached/);
  });

  it("returns its argument itself, and marks the whole buffer; an empty buffer may be marked", () => {
    const buffer = new ArrayBuffer(16);
    const view = new Float32Array(buffer, 4, 2);
    assert.equal(transfer(view), view);
    assert.ok(isMarked(buffer));
    const empty = new ArrayBuffer(0);
    assert.equal(transfer(empty), empty);
  });
});

describe("binary data in the codec", () => {
  it("R10.1 without Buffers, a buffer travels as base64 text: JSON keeps it, the mark is used up, nothing detaches", () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    transfer(bytes);
    const encoded = encode([bytes, new Uint16Array(bytes.buffer, 0, 2)]);
    assert.ok(!isMarked(bytes.buffer));
    assert.equal(bytes.length, 5);
    const back = decode(JSON.parse(JSON.stringify(encoded)) as Encoded) as [Uint8Array, Uint16Array];
    assert.deepStrictEqual(Array.from(back[0]), [0, 1, 2, 250, 255]);
    assert.equal(back[0].buffer, back[1].buffer);
  });

  it("R10.1 with Buffers, a buffer travels as a private copy the transport may move; a marked one is moved itself", () => {
    const plain = new Uint8Array([1, 2, 3]);
    const marked = transfer(new Float64Array([0.5, -0]));
    const buffers = new Buffers(true);
    const encoded = encode({ plain, marked }, buffers);
    assert.ok(buffers.asValue);
    assert.equal(buffers.moved.length, 2);
    assert.equal(plain.length, 3, "the caller's unmarked buffer stays");
    assert.equal(marked.length, 0, "the marked one is detached");
    plain[0] = 99;
    const back = structuredClone(encoded, { transfer: buffers.moved });
    const value = decode(back) as { plain: Uint8Array; marked: Float64Array };
    assert.deepStrictEqual(Array.from(value.plain), [1, 2, 3], "later changes by the caller do not travel");
    assert.ok(Object.is(value.marked[1], -0));
  });

  it("R10.1 a message sent to many workers (the hello) copies a marked buffer and moves nothing", () => {
    const bytes = transfer(new Uint8Array([7]));
    const buffers = new Buffers(true, false);
    const encoded = encode([bytes], buffers);
    assert.ok(buffers.asValue);
    assert.deepStrictEqual(buffers.moved, []);
    assert.equal(bytes.length, 1);
    assert.ok(!isMarked(bytes.buffer));
    assert.deepStrictEqual(Array.from((decode(structuredClone(encoded)) as Uint8Array[])[0]), [7]);
  });

  it("R10.1 where memory is not shared (a pipe), buffers are copies, marked ones too, and shared memory is copied", () => {
    const bytes = transfer(new Uint8Array([1, 2]));
    const shared = new Int16Array(new SharedArrayBuffer(4)).fill(-2);
    const buffers = new Buffers(false);
    const encoded = encode({ bytes, shared }, buffers);
    assert.ok(buffers.asValue);
    assert.deepStrictEqual(buffers.moved, []);
    assert.equal(bytes.length, 2, "not detached");
    const back = decode(structuredClone(encoded)) as { bytes: Uint8Array; shared: Int16Array };
    assert.deepStrictEqual(Array.from(back.bytes), [1, 2]);
    assert.ok(back.shared.buffer instanceof SharedArrayBuffer);
    assert.notEqual(back.shared.buffer, shared.buffer);
    assert.deepStrictEqual(Array.from(back.shared), [-2, -2]);
  });

  it("R10.1 a long string makes its message travel as a value; short ones leave it text", () => {
    const short = new Buffers(true);
    encode(["a".repeat(100), 1], short);
    assert.ok(!short.asValue);
    for (const value of ["b".repeat(1 << 16), ["c".repeat(1 << 16)], { nested: ["d".repeat(1 << 17)] }]) {
      const buffers = new Buffers(false);
      assert.deepStrictEqual(decode(structuredClone(encode(value, buffers))), value);
      assert.ok(buffers.asValue);
    }
  });

  it("R9 a value that cannot be sent leaves its marked buffers attached and still marked", () => {
    const bytes = transfer(new Uint8Array(8));
    assert.throws(() => encode([bytes, () => 1], new Buffers(true)), TypeError);
    assert.equal(bytes.length, 8);
    assert.ok(isMarked(bytes.buffer));
  });

  it("R10.1 a SharedArrayBuffer is shared with Buffers, copied as text without, and a SharedArrayBuffer either way", () => {
    const shared = new Int32Array(new SharedArrayBuffer(8)).fill(3);
    const buffers = new Buffers(true);
    const direct = decode(encode(shared, buffers)) as Int32Array;
    assert.ok(buffers.asValue);
    assert.equal(direct.buffer, shared.buffer);
    const copied = decode(JSON.parse(JSON.stringify(encode(shared))) as Encoded) as Int32Array;
    assert.ok(copied.buffer instanceof SharedArrayBuffer);
    assert.notEqual(copied.buffer, shared.buffer);
    assert.deepStrictEqual(Array.from(copied), [3, 3]);
  });

  it("R9 a binary tag whose payload is neither text nor a buffer fails to decode with a TypeError", () => {
    assert.throws(() => decode({ "\u0000": "B", v: 5 }), TypeError);
    assert.throws(() => decode({ "\u0000": "A", v: [1] }), TypeError);
  });

  it("joinBuffers() merges the moves of several encodings, and says none when none holds a buffer", () => {
    assert.equal(joinBuffers([undefined, undefined]), undefined);
    const a = new Buffers(true);
    encode(new Uint8Array(1), a);
    const b = new Buffers(true);
    encode(transfer(new Uint8Array(2)), b);
    const joined = joinBuffers([a, undefined, b])!;
    assert.ok(joined.asValue);
    assert.deepStrictEqual(joined.moved.map((buffer) => buffer.byteLength), [1, 2]);
  });
});

describe("binary data through a custom backend", () => {
  const module = new URL("../conformance/tasks/r10_binary.ts", import.meta.url);

  for (const transport of ["json", "clone", "move"] as const) {
    it(`R10.1 a ${transport} transport carries typed arrays exactly; only one that moves buffers detaches a marked one`, async () => {
      const backend = memoryBackend({ transport });
      await using pool = new ProcessPoolExecutor({ module, backend, maxWorkers: 1 });
      const values = new Int32Array([1, 2, 3]);
      const shared = new Int32Array(new SharedArrayBuffer(8));
      const future = pool.submit("addInPlace", transfer(values), 1);
      assert.equal(values.length, transport === "move" ? 0 : 3);
      assert.equal(await within(future.result()), 9);
      await within(pool.submit("addInPlace", shared, 5).result());
      // Shared memory is shared where buffers move (threads); copied otherwise.
      assert.deepStrictEqual(Array.from(shared), transport === "move" ? [5, 5] : [0, 0]);
      const back = await within(pool.submit("countUp", 4, 250).result()) as Uint8Array;
      assert.deepStrictEqual(Array.from(back), [250, 251, 252, 253]);
      // What reached the worker: JSON text carries base64, the others the buffer itself.
      const frames = JSON.stringify(backend.workers[0].received.filter((m) => m[0] !== 0));
      assert.equal(frames.includes('"v":"AQAAAAIAAAADAAAA"'), transport === "json");
    });
  }

  it("R9 transfer() of a buffer the runtime will not move copies it: the task runs, nothing else is lost", async () => {
    await using pool = new ProcessPoolExecutor({
      module,
      backend: memoryBackend({ transport: "move" }),
      maxWorkers: 1,
    });
    const wasmApi =
      (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } })
        .WebAssembly;
    const memory = new wasmApi.Memory({ initial: 1 });
    const wasm = new Uint8Array(memory.buffer, 0, 4).fill(9);
    const mine = new Uint8Array([1, 2, 3]);
    const seen = await within(pool.submit("inspect", [transfer(mine), transfer(wasm)]).result());
    assert.deepStrictEqual(seen, { types: ["Uint8Array", "Uint8Array"], lengths: [3, 4], sameBuffer: false });
    assert.equal(mine.length, 0, "the movable one moved");
    assert.equal(memory.buffer.byteLength, 65536, "WebAssembly memory stays");
    assert.deepStrictEqual(Array.from(wasm), [9, 9, 9, 9]);
  });

  it("R9 a submit that fails for its function name leaves a marked buffer attached; a detached one fails clearly", async () => {
    await using pool = new ProcessPoolExecutor({
      module,
      backend: memoryBackend({ transport: "move" }),
      maxWorkers: 1,
    });
    await within(pool.submit("identity", 1).result()); // the task module is loaded: names are checked at submit
    const bytes = new Uint8Array([4, 5]);
    const sibling = new Uint8Array(bytes.buffer, 1);
    const error = await within(pool.submit("nope", transfer(bytes)).exception());
    assert.match((error as Error).message, /"nope" is not a function exported by/);
    assert.equal(bytes.length, 2);
    assert.deepStrictEqual(Array.from(await within(pool.submit("identity", bytes).result()) as Uint8Array), [4, 5]);
    assert.equal(bytes.length, 0, "the mark was still there, and the next submit moved it");
    const failed = await within(pool.submit("identity", sibling).exception());
    assert.ok(failed instanceof TypeError);
    assert.match(failed.message, /detached: transfer\(\) moved it/);
  });
});

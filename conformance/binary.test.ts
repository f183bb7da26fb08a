// R10.1 for binary data and big values: typed arrays of every kind up to a few MiB, buffers shared by two views,
// SharedArrayBuffers and nested records round-trip exactly on every backend; transfer() moves buffers on the
// thread backends and copies them on the process backends; shared memory is shared where workers are threads.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ProcessPoolExecutor, transfer } from "../mod.ts";
import { typedArrayKinds } from "../src/_test_utils.ts";
import { backends, runtime, taskModule } from "./_backends.ts";
import * as tasks from "./tasks/r10_binary.ts";

const module = taskModule("r10_binary.ts");
const LONG = { timeout: 120_000 };

type ViewClass = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView;
const globals = globalThis as unknown as Record<string, ViewClass | undefined>;
const KINDS = [...typedArrayKinds().map(([name]) => name), "DataView"];

interface Block {
  kind: string;
  bytes: number;
  seed: number;
  offset: number;
  shared: boolean;
  secondView: boolean;
}

const blockArbitrary: fc.Arbitrary<Block> = fc.record({
  kind: fc.constantFrom(...KINDS),
  bytes: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 3 << 20 })),
  seed: fc.integer(),
  offset: fc.integer({ min: 0, max: 3 }),
  shared: fc.boolean(),
  secondView: fc.boolean(),
});

// A view of `block.kind` over fresh memory filled with pseudo-random bytes (NaN payloads included), starting
// `offset` elements in; with `secondView`, a Uint8Array over the same buffer too.
function build(block: Block): ArrayBufferView[] {
  const View = globals[block.kind]!;
  const size = block.kind === "DataView" ? 1 : (View as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const length = Math.floor(block.bytes / size);
  const byteLength = (length + block.offset + 1) * size;
  const buffer = block.shared ? new SharedArrayBuffer(byteLength) : new ArrayBuffer(byteLength);
  const words = new Uint32Array(buffer, 0, Math.floor(byteLength / 4));
  let x = block.seed | 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  const view = new View(buffer, block.offset * size, length);
  return block.secondView ? [view, new Uint8Array(buffer, 1)] : [view];
}

// What must survive a round trip, read without node:assert walking megabytes element by element: each view's
// type, place and a checksum of its bytes, its buffer's kind and length, and which views share a buffer.
function summary(views: readonly ArrayBufferView[]): unknown[] {
  const buffers: ArrayBufferLike[] = [];
  return views.map((view) => {
    if (!buffers.includes(view.buffer)) buffers.push(view.buffer);
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    let hash = 2166136261;
    for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 16777619);
    return {
      type: Object.prototype.toString.call(view),
      byteOffset: view.byteOffset,
      byteLength: view.byteLength,
      buffer: Object.prototype.toString.call(view.buffer),
      bufferLength: view.buffer.byteLength,
      bufferIndex: buffers.indexOf(view.buffer),
      hash,
    };
  });
}

// Sends `value` to a worker and back, typed as what was sent.
function roundTrip<T>(pool: ProcessPoolExecutor, value: T): Promise<T> {
  return pool.submit(tasks.identity, value).result() as Promise<T>;
}

for (const backend of backends) {
  const threads = backend === "worker";
  describe(`R10.1 binary data and big values through real workers (${runtime}, ${backend})`, () => {
    it(
      "R10.1 typed arrays of every kind up to 3 MiB, shared buffers and nested records round-trip exactly",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
        await fc.assert(
          fc.asyncProperty(fc.array(blockArbitrary, { minLength: 1, maxLength: 3 }), async (blocks) => {
            const views = blocks.flatMap(build);
            const value = { label: "blocks", nested: { views, count: views.length }, first: views[0] };
            const back = await roundTrip(pool, value);
            assert.equal(back.first, back.nested.views[0], "a view referenced twice stays one object");
            assert.deepStrictEqual(summary(back.nested.views), summary(structuredClone(views)));
            assert.equal(back.nested.count, views.length);
          }),
          { numRuns: 12 },
        );
      },
    );

    it("R10.1 a 64 MiB Uint8Array and 100,000 records round-trip exactly", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const big = new Uint8Array(64 << 20);
      for (let i = 0; i < big.length; i += 4093) big[i] = i % 251;
      const back = await roundTrip(pool, big);
      assert.deepStrictEqual(summary([back]), summary([big]));
      const rows = Array.from({ length: 100_000 }, (_, i) => ({ x: i, y: i / 3, tag: `r${i}` }));
      assert.deepStrictEqual(await roundTrip(pool, rows), rows);
    });

    it("R10.1 views of one buffer arrive in the worker sharing one buffer", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const buffer = new ArrayBuffer(32);
      const seen = await pool.submit(tasks.inspect, [new Uint8Array(buffer, 4, 8), new Float64Array(buffer, 8, 2)]);
      assert.deepStrictEqual(seen, { types: ["Uint8Array", "Float64Array"], lengths: [8, 16], sameBuffer: true });
    });

    it(
      `R10.1 a SharedArrayBuffer is ${
        threads ? "shared with the worker" : "copied to the worker"
      } and comes back a SharedArrayBuffer`,
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const shared = new Int32Array(new SharedArrayBuffer(16)).fill(1);
        assert.equal(await pool.submit(tasks.addInPlace, shared, 10), 44, "the worker saw the values and added");
        assert.deepStrictEqual(Array.from(shared), threads ? [11, 11, 11, 11] : [1, 1, 1, 1]);
        const back = await roundTrip(pool, shared);
        assert.ok(back.buffer instanceof SharedArrayBuffer);
        assert.deepStrictEqual(Array.from(back), Array.from(shared));
      },
    );

    it(
      `R10.1 transfer(): the sender's buffer is ${
        threads ? "detached" : "left intact"
      } after submit, and the worker gets its bytes`,
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const values = new Int32Array([1, 2, 3, 4]);
        const future = pool.submit(tasks.addInPlace, transfer(values), 1);
        assert.equal(values.length, threads ? 0 : 4);
        assert.equal(values.buffer.byteLength, threads ? 0 : 16);
        assert.equal(await future, 14);
        if (!threads) assert.deepStrictEqual(Array.from(values), [1, 2, 3, 4], "the process backends copy");
        // The mark is used up by that submit: sending the buffer again copies it.
        if (!threads) {
          await roundTrip(pool, values);
          assert.equal(values.length, 4);
        }
      },
    );

    it("R10.1 a task that returns transfer(x) gives the parent x's bytes", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
      const results = await Promise.all([0, 1, 2].map((i) => pool.submit(tasks.countUp, 1 << (10 + 4 * i), i)));
      for (const [i, bytes] of results.entries()) {
        assert.ok(bytes instanceof Uint8Array);
        assert.equal(bytes.length, 1 << (10 + 4 * i));
        assert.ok(bytes.every((b, j) => b === ((i + j) & 255)));
      }
      // Chunked too: a chunk's results travel as one list.
      const lists: number[][] = [];
      for await (const bytes of pool.starmap(tasks.countUp, [[2, 7], [3, 8], [4, 9]], { chunksize: 2 })) {
        lists.push(Array.from(bytes));
      }
      assert.deepStrictEqual(lists, [[7, 8], [8, 9, 10], [9, 10, 11, 12]]);
    });

    it(
      "R9 transfer() of a small Node Buffer (a slice of Node's pool) beside another marked array: both arrive",
      LONG,
      async () => {
        await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
        const mine = new Float64Array([1.5, 2.5]);
        const small = Buffer.from("abc");
        const seen = await pool.submit(tasks.inspect, [transfer(mine), transfer(small)]);
        assert.deepStrictEqual(seen, { types: ["Float64Array", "Uint8Array"], lengths: [16, 3], sameBuffer: false });
        assert.equal(mine.length, threads ? 0 : 2);
      },
    );

    it("R9 a task that marks one buffer twice fails with transfer()'s TypeError; the pool goes on", LONG, async () => {
      await using pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
      const error = await pool.submit(tasks.markTwice, 8).exception();
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /transfer\(\): this buffer is already marked/);
      assert.equal((await pool.submit(tasks.countUp, 3, 1)).length, 3);
    });

    it("R10.1 a buffer in initArgs reaches every worker, and a marked one is copied, not moved", LONG, async () => {
      const bytes = new Uint8Array([1, 2, 3, 250]);
      await using pool = new ProcessPoolExecutor({
        module,
        maxWorkers: 2,
        backend,
        initializer: tasks.keep,
        initArgs: [transfer(bytes)],
      });
      const results = await Promise.all([1, 2, 3, 4].map(() => pool.submit(tasks.kept)));
      for (const result of results) assert.deepStrictEqual(result, [256, 4]);
      assert.deepStrictEqual(Array.from(bytes), [1, 2, 3, 250]);
    });
  });
}

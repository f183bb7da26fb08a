import { describeValue } from "./_checks.ts";

// Marking buffers to be moved to a worker (or back to the parent) rather than copied: the pool's form of
// postMessage's transfer list.

// The marks live in one table per program, found through the global symbol registry, so that a task module
// that reached procpool by another URL (an npm copy beside a local one) still marks for the same pool.
const REGISTRY = Symbol.for("procpool.transfer");
const marked: WeakSet<ArrayBuffer> = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= new WeakSet()) as WeakSet<
  ArrayBuffer
>;

/**
 * Marks the buffer of `value` (an `ArrayBuffer`, a typed array or a `DataView`) to be moved, not copied, by the
 * next message that carries it, and returns `value` itself: pass it to `submit()` or `map()` in the parent, or
 * return it from a task in a worker.
 *
 * On the thread backends (`"worker"`) a moved buffer crosses without a copy and is detached on the sending side
 * as `postMessage` does: after `submit()` its `byteLength` is 0 and the task owns the memory. The process backends
 * have no shared memory: there the value is copied and the buffer stays intact, and so does a buffer among a
 * pool's `initArgs`, which every worker gets, and one the runtime will not let go of (a slab of Node's `Buffer`
 * pool, behind small `Buffer.from()` results; WebAssembly memory). A `SharedArrayBuffer` is never moved: the
 * thread backends share it. A typed array's whole buffer moves: other views of it are detached too.
 *
 * Throws a `TypeError` for anything else, for a buffer already marked, and for a detached one.
 *
 * @example Hand an array to a worker thread without copying it
 * ```ts
 * import { ProcessPoolExecutor, transfer } from "@procpool/procpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new ProcessPoolExecutor({
 *   module: new URL("../examples/arrays.ts", import.meta.url),
 *   backend: "worker",
 * });
 * const values = new Float64Array([1, 2, 3]);
 * assert.equal(await pool.submit("sum", transfer(values)), 6);
 * assert.equal(values.length, 0); // moved: the worker got the memory itself
 * ```
 */
export function transfer<T>(value: T): T {
  const buffer = bufferOf(value);
  if (marked.has(buffer)) throw new TypeError("transfer(): this buffer is already marked to be moved");
  if (isDetached(buffer)) throw new TypeError("transfer(): this buffer is detached (it was moved already)");
  marked.add(buffer);
  return value;
}

/** Whether `buffer` is marked by {@linkcode transfer}. */
export function isMarked(buffer: ArrayBuffer): boolean {
  return marked.has(buffer);
}

/** Uses up the mark {@linkcode transfer} put on `buffer`. */
export function takeMark(buffer: ArrayBuffer): void {
  marked.delete(buffer);
}

function bufferOf(value: unknown): ArrayBuffer {
  let buffer: unknown = value;
  if (ArrayBuffer.isView(value)) buffer = value.buffer;
  if (buffer instanceof ArrayBuffer) return buffer;
  const what = describeValue(value);
  if (typeof SharedArrayBuffer === "function" && buffer instanceof SharedArrayBuffer) {
    throw new TypeError(
      `transfer(): this ${what} is over shared memory, which cannot be moved (the thread backends share it)`,
    );
  }
  throw new TypeError(`transfer(): expected an ArrayBuffer, a typed array or a DataView, got ${what}`);
}

/** Whether `buffer` is detached (moved away): it has length 0 and refuses new views, where an empty one accepts them. */
export function isDetached(buffer: ArrayBuffer): boolean {
  if (buffer.byteLength > 0) return false;
  const detached = (buffer as { detached?: boolean }).detached;
  if (detached !== undefined) return detached;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

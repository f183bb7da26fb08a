// A process worker's stdout and stderr written synchronously, so that no way of ending the worker drops output.

import { Buffer } from "node:buffer";
import { writeSync } from "node:fs";
import process from "node:process";

// A child writes to the parent's own stdout and stderr. On Node and Bun a write to a pipe is asynchronous: what the
// pipe cannot take at once (64 KiB) waits in the child's event loop, and process.exit() discards it — whether the
// pool stops the worker, it retires under maxTasksPerChild, its initializer fails, or task code exits. CPython's
// workers write with blocking descriptors; these write with fs.writeSync, retried while the descriptor says EAGAIN.
// The descriptor's flags are not touched: the pipe is shared with the parent and every sibling, and each new Node
// child makes it non-blocking again as it starts (setBlocking(true) lost output with two workers, measured).

/** The part of a Node writable stream replaced here, declared locally (no Node types in the build). */
interface WriteStream {
  write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean;
  emit(event: "error", error: unknown): boolean;
}

type Callback = (error?: Error | null) => void;

const pause = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      if ((error as { code?: unknown }).code !== "EAGAIN") throw error;
      // The reader is behind: wait a millisecond, as a blocking write would wait for it.
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

function writeSynchronously(stream: WriteStream, fd: number): void {
  stream.write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    if (typeof encoding === "function") {
      callback = encoding;
      encoding = undefined;
    }
    const done = typeof callback === "function" ? callback as Callback : undefined;
    // Bad arguments throw at the call, as Node's own write() does; only I/O errors go to the callback.
    if (typeof chunk !== "string" && !ArrayBuffer.isView(chunk)) {
      throw new TypeError(`The "chunk" argument must be a string, Buffer or Uint8Array, got ${typeof chunk}`);
    }
    if (encoding !== undefined && encoding !== null && !Buffer.isEncoding(String(encoding))) {
      throw new TypeError(`Unknown encoding: ${String(encoding)}`);
    }
    const bytes = typeof chunk === "string"
      ? Buffer.from(chunk, (encoding ?? "utf8") as "utf8")
      : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    try {
      writeAll(fd, bytes);
    } catch (error) {
      // Fail as an asynchronous write does: through the callback, then the stream's "error" event (EPIPE, …).
      process.nextTick(() => {
        done?.(error as Error);
        stream.emit("error", error);
      });
      return false;
    }
    if (done !== undefined) process.nextTick(done, null);
    return true;
  };
}

/**
 * Makes `process.stdout` and `process.stderr` write synchronously in a process worker on Node and Bun (Deno writes
 * them synchronously already): every write is in the pipe when `write()` returns, so no exit drops output (R10.2).
 * A worker then waits for a slow reader, as CPython's do. `write()` returns `true` unless the write failed, so
 * `"drain"` is never emitted. Threads need nothing: their runtime forwards their output to the parent and flushes
 * it when they exit.
 */
export function syncStdio(): void {
  if ("Deno" in globalThis) return;
  writeSynchronously(process.stdout as unknown as WriteStream, 1);
  writeSynchronously(process.stderr as unknown as WriteStream, 2);
}

// Task module for the binary-data conformance tests: round trips, writes into shared memory, and results moved
// back with transfer().

import { transfer } from "../../mod.ts";

/** Returns its argument: the value travels parent → worker → parent. */
export function identity<T>(value: T): T {
  return value;
}

/** What the worker received: each view's type, length, and whether the views share one buffer. */
export function inspect(views: ArrayBufferView[]): { types: string[]; lengths: number[]; sameBuffer: boolean } {
  return {
    types: views.map((v) => Object.prototype.toString.call(v).slice(8, -1)),
    lengths: views.map((v) => v.byteLength),
    sameBuffer: views.every((v) => v.buffer === views[0].buffer),
  };
}

/** Adds `delta` to every element of `view` in place, and returns the sum of the elements afterwards. */
export function addInPlace(view: Int32Array, delta: number): number {
  let total = 0;
  for (let i = 0; i < view.length; i++) total += view[i] += delta;
  return total;
}

/** `length` bytes counting up from `start` (mod 256), moved back rather than copied on the thread backends. */
export function countUp(length: number, start: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (start + i) & 255;
  return transfer(out);
}

/** Marks one buffer twice: the second transfer() throws in the worker, and the task fails with it. */
export function markTwice(length: number): Uint8Array {
  const out = new Uint8Array(length);
  transfer(out);
  return transfer(out);
}

let fromInit: Uint8Array | undefined;

/** An initializer that keeps the bytes it was given. */
export function keep(bytes: Uint8Array): void {
  fromInit = bytes;
}

/** The sum of the bytes the initializer kept, and their count. */
export function kept(): [number, number] {
  let total = 0;
  for (const b of fromInit ?? []) total += b;
  return [total, fromInit?.length ?? -1];
}

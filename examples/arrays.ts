// Task module for the binary-data example and docs: numeric arrays in, numbers or arrays out.

import { transfer } from "../mod.ts";

/** Adds up the numbers of an array. */
export function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

/** A new array of `length` squares, moved to the parent rather than copied on the thread backends. */
export function squares(length: number): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = i * i;
  return transfer(out);
}

/** Writes `value` into every slot of `view`, in place: the parent sees it when `view` is over shared memory. */
export function fill(view: Int32Array, value: number): number {
  view.fill(value);
  return view.length;
}

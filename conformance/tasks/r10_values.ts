// Task module for the R10 (values and output) conformance tests: an identity task for round trips, and a task
// that writes to stdout and stderr.

import process from "node:process";

/** Returns its argument: the value travels parent → worker → parent. */
export function identity<T>(value: T): T {
  return value;
}

/** Returns what the worker received, described: lets a test check the parent → worker direction alone. */
export function describeValue(value: unknown): { type: string; negativeZero: boolean; isNaN: boolean } {
  return {
    type: Object.prototype.toString.call(value),
    negativeZero: Object.is(value, -0),
    isNaN: typeof value === "number" && Number.isNaN(value),
  };
}

/** Writes marked lines to stdout and stderr, through console and through the streams. */
export function speak(tag: string): string {
  console.log(`r10 console.log ${tag}`);
  console.error(`r10 console.error ${tag}`);
  process.stdout.write(`r10 stdout.write ${tag}\n`);
  process.stderr.write(`r10 stderr.write ${tag}\n`);
  return tag;
}

/** An initializer that fails, so that the worker prints "Exception in initializer:". */
export function failingInit(tag: string): void {
  throw new Error(`r10 initializer failed ${tag}`);
}

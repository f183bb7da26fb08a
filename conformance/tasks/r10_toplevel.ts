// A task module that records every evaluation of its top level in a global list, so that a test can see that
// the parent evaluates it too (R10.3) and only once per realm.

import process from "node:process";
import { isMainThread } from "node:worker_threads";

const KEY = Symbol.for("procpool.conformance.r10.evaluations");
type Evaluation = { pid: number; isMainThread: boolean };
const store = globalThis as unknown as Record<symbol, Evaluation[] | undefined>;
(store[KEY] ??= []).push({ pid: process.pid, isMainThread });

/** The evaluations of this module seen in the realm that runs this task. */
export function evaluations(): Evaluation[] {
  return store[KEY] ?? [];
}

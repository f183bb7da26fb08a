// Which backends this runtime has: every real-process test and property runs once per backend listed here.

import type { BackendKind } from "../mod.ts";
import { currentRuntime, type RuntimeName } from "../src/runtime/detect.ts";

/** The runtime the tests run on. */
export const runtime: RuntimeName = currentRuntime();

/** The concrete backends of this runtime, the default first. */
export const backends: readonly Exclude<BackendKind, "auto">[] = runtime === "node"
  ? ["process", "worker"]
  : ["worker", "process"];

/** The URL of a task module under conformance/tasks/. */
export function taskModule(name: string): URL {
  return new URL(`./tasks/${name}`, import.meta.url);
}

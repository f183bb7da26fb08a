// Several submit() calls in a row, with nothing awaited between them: most of their futures are still pending.

import fc from "fast-check";
import type { CallbackSpec, PoolModel, TaskCall } from "../model.ts";
import { showCall } from "../model.ts";
import type { Harness } from "../properties/harness.ts";
import { observeAll, type PoolCommand, report } from "./_step.ts";
import { submitNow } from "./submit.ts";

/** A burst of submissions, so that later steps find pending futures to cancel, wait on or shut down (R4, R6, R7). */
export class SubmitBatchCommand implements PoolCommand {
  constructor(readonly calls: readonly { readonly call: TaskCall; readonly callbacks: readonly CallbackSpec[] }[]) {}

  check(model: Readonly<PoolModel>): boolean {
    return model.futures.length < 14;
  }

  async run(model: PoolModel, harness: Harness): Promise<void> {
    await observeAll(model, harness);
    report(this.calls.flatMap(({ call, callbacks }) => submitNow(model, harness, call, callbacks)));
  }

  [fc.toStringMethod](): string {
    return this.toString();
  }

  toString(): string {
    const calls = this.calls.map(({ call, callbacks }) =>
      `${showCall(call)}${callbacks.length > 0 ? ` callbacks [${callbacks.join(", ")}]` : ""}`
    );
    return `submit burst [${calls.join("; ")}]`;
  }
}

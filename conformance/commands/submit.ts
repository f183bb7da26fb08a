// submit(): one task, with done-callbacks added right after the call.

import type { CallbackSpec, PoolModel, Verdicts } from "../model.ts";
import { showCall, type TaskCall } from "../model.ts";
import { describeThrown, type Harness, stateOf } from "../properties/harness.ts";
import { observeAll, type PoolCommand, report } from "./_step.ts";

/**
 * Submits `call`, then adds `callbacks` at once; synchronous, so that several calls in a row leave their
 * futures pending together. Returns the model's verdicts.
 */
export function submitNow(
  model: PoolModel,
  harness: Harness,
  call: TaskCall,
  callbacks: readonly CallbackSpec[],
): Verdicts {
  const index = harness.futures.length;
  let future;
  let result;
  try {
    future = harness.submit(call, index);
    result = { threw: false } as const;
  } catch (error) {
    result = { threw: true, error: describeThrown(error) } as const;
  }
  if (future === undefined) return model.submitted(call, result, undefined, -1).verdicts;
  harness.track(future);
  const state = stateOf(future);
  const wasDone = callbacks.map((cb, i) => harness.addCallback(index, i, cb));
  const { verdicts } = model.submitted(call, result, { state }, harness.ids[index]);
  callbacks.forEach((cb, i) => model.callbackAdded(index, cb, wasDone[i]));
  return verdicts;
}

/** `pool.submit(…)` of a generated call, then `addDoneCallback` for each callback (R1.4, R2, R3.1, R7.1). */
export class SubmitCommand implements PoolCommand {
  constructor(readonly call: TaskCall, readonly callbacks: readonly CallbackSpec[]) {}

  check(model: Readonly<PoolModel>): boolean {
    return model.futures.length < 14;
  }

  async run(model: PoolModel, harness: Harness): Promise<void> {
    await observeAll(model, harness);
    report(submitNow(model, harness, this.call, this.callbacks));
  }

  toString(): string {
    const cbs = this.callbacks.length > 0 ? ` callbacks [${this.callbacks.join(", ")}]` : "";
    return `submit ${showCall(this.call)}${cbs}`;
  }
}

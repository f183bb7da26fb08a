// await a future's outcome, then add callbacks to the finished future.

import type { CallbackSpec, PoolModel } from "../model.ts";
import type { Harness } from "../properties/harness.ts";
import { observeAll, pick, type PoolCommand, report } from "./_step.ts";

/**
 * Waits for a future (opening the gates that could hold it up) and checks its outcome; callbacks added
 * afterwards must run at once (R3.2). A future that never settles is reported (R4.1).
 */
export class AwaitCommand implements PoolCommand {
  constructor(readonly target: number, readonly lateCallbacks: readonly CallbackSpec[]) {}

  check(model: Readonly<PoolModel>): boolean {
    return model.futures.length > 0;
  }

  async run(model: PoolModel, harness: Harness): Promise<void> {
    await observeAll(model, harness);
    const index = pick(model, this.target);
    // Workers take tasks in submission order, so only gates of earlier futures can hold this one up.
    for (let i = 0; i <= index; i++) {
      if (harness.openGate(i)) model.gateOpened(i);
    }
    if (!(await harness.settle(index))) {
      report([{ rule: "R4.1", message: `${model.futures[index].label} did not settle within the hang limit` }]);
    }
    await observeAll(model, harness);
    const first = model.futures[index].callbacks.length;
    this.lateCallbacks.forEach((cb, i) => {
      const wasDone = harness.addCallback(index, first + i, cb);
      model.callbackAdded(index, cb, wasDone);
    });
  }

  toString(): string {
    const cbs = this.lateCallbacks.length > 0 ? `, then callbacks [${this.lateCallbacks.join(", ")}]` : "";
    return `await f#${this.target}${cbs}`;
  }
}

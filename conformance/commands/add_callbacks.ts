// addDoneCallback(): more callbacks on a future, whether it is done by now or not.

import type { CallbackSpec, PoolModel } from "../model.ts";
import type { Harness } from "../properties/harness.ts";
import { observeAll, pick, type PoolCommand } from "./_step.ts";

/** Adds callbacks to a future in whatever state it is (R3.1, R3.2). */
export class AddCallbacksCommand implements PoolCommand {
  constructor(readonly target: number, readonly callbacks: readonly CallbackSpec[]) {}

  check(model: Readonly<PoolModel>): boolean {
    return model.futures.length > 0;
  }

  async run(model: PoolModel, harness: Harness): Promise<void> {
    await observeAll(model, harness);
    const index = pick(model, this.target);
    const first = model.futures[index].callbacks.length;
    this.callbacks.forEach((cb, i) => {
      const wasDone = harness.addCallback(index, first + i, cb);
      model.callbackAdded(index, cb, wasDone);
    });
  }

  toString(): string {
    return `add callbacks [${this.callbacks.join(", ")}] to f#${this.target}`;
  }
}

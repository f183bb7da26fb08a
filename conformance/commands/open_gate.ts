// Opens the gate a gated task waits for.

import type { PoolModel } from "../model.ts";
import type { Harness } from "../properties/harness.ts";
import type { PoolCommand } from "./_step.ts";

/** Lets a gated task go on; until then the model knows it cannot finish (unless the pool breaks). */
export class OpenGateCommand implements PoolCommand {
  constructor(readonly target: number) {}

  check(model: Readonly<PoolModel>): boolean {
    return model.futures.some((f) => f.gated && !f.gateOpen);
  }

  run(model: PoolModel, harness: Harness): Promise<void> {
    const gated = model.futures.filter((f) => f.gated && !f.gateOpen);
    const future = gated[this.target % gated.length];
    if (harness.openGate(future.index)) model.gateOpened(future.index);
    return Promise.resolve();
  }

  toString(): string {
    return `open gate #${this.target}`;
  }
}

// Lets time pass, so that work progresses between steps.

import type { PoolModel } from "../model.ts";
import { type Harness, sleep } from "../properties/harness.ts";
import type { PoolCommand } from "./_step.ts";

/** Sleeps a few milliseconds. */
export class PauseCommand implements PoolCommand {
  constructor(readonly ms: number) {}

  check(_model: Readonly<PoolModel>): boolean {
    return true;
  }

  async run(_model: PoolModel, _harness: Harness): Promise<void> {
    await sleep(this.ms);
  }

  toString(): string {
    return `pause ${this.ms}ms`;
  }
}

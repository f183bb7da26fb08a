// map() / starmap(): eager submission, ordered results, early stops, chunks and timeouts.

import fc from "fast-check";
import { type MapSpec, type PoolModel, showTask } from "../model.ts";
import { describeThrown, HANG_MS, type Harness, within } from "../properties/harness.ts";
import type { MapIterator } from "../../mod.ts";
import { observeAll, type PoolCommand, report } from "./_step.ts";

type End = { kind: "done" } | { kind: "stopped" } | { kind: "threw"; thrown: ReturnType<typeof describeThrown> } | {
  kind: "hung";
};

/** Runs one map or starmap and iterates it as its consumer would (R5.1–R5.6). */
export class MapCommand implements PoolCommand {
  constructor(readonly spec: MapSpec) {}

  check(model: Readonly<PoolModel>): boolean {
    return model.maps.length < 4;
  }

  async run(model: PoolModel, harness: Harness): Promise<void> {
    await observeAll(model, harness);
    const { spec } = this;
    const index = model.maps.length;
    const tight = spec.timeout !== undefined && spec.timeout < 1_000;
    if (!tight) {
      // Without a short timeout, iteration waits for real: items may queue behind any gated task.
      for (let i = 0; i < harness.futures.length; i++) if (harness.openGate(i)) model.gateOpened(i);
    }
    const marks = spec.items.map((_, i) => `m${index}x${i}`);
    // Gates only make sense with a timeout: without one, iteration would wait for them.
    const jobs = spec.items.map((item, i) => harness.job(item.spec, marks[i], item.gate && tight));
    const options = { chunksize: spec.chunksize, timeout: spec.timeout };
    let iterator: MapIterator<unknown> | undefined;
    let result;
    try {
      iterator = spec.star
        ? harness.pool.starmap("run", jobs.map((job) => [job]), options)
        : harness.pool.map("run", jobs, options);
      result = { threw: false } as const;
    } catch (error) {
      result = { threw: true, error: describeThrown(error) } as const;
    }
    const yielded: unknown[] = [];
    let end: End = { kind: "done" };
    if (iterator !== undefined) {
      const it = iterator;
      const consume = async (): Promise<End> => {
        try {
          for (;;) {
            if (spec.stopAfter !== undefined && yielded.length >= spec.stopAfter) {
              await it.return();
              return { kind: "stopped" };
            }
            const next = await it.next();
            if (next.done) return { kind: "done" };
            yielded.push(next.value);
          }
        } catch (error) {
          return { kind: "threw", thrown: describeThrown(error) };
        }
      };
      const settled = await within(consume(), HANG_MS);
      end = settled.ok ? settled.value : { kind: "hung" };
      if (!settled.ok) await it.return();
    }
    for (const job of jobs) harness.openPath(job.gate);
    report(model.mapped(spec, result, yielded, end, marks));
  }

  [fc.toStringMethod](): string {
    return this.toString();
  }

  toString(): string {
    const { spec } = this;
    const items = spec.items.map((item) => `${showTask(item.spec)}${item.gate ? " gated" : ""}`).join("; ");
    const options = [
      `chunksize ${spec.chunksize}`,
      ...(spec.timeout === undefined ? [] : [`timeout ${spec.timeout}ms`]),
      ...(spec.stopAfter === undefined ? [] : [`stop after ${spec.stopAfter}`]),
    ];
    return `${spec.star ? "starmap" : "map"} [${items}] (${options.join(", ")})`;
  }
}

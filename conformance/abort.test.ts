// AbortSignal with real pools: submitWith({ signal }) cancels a task while it is PENDING, map({ signal }) cancels
// the items still PENDING and throws signal.reason, wait({ signal }) and asCompleted({ signal }) stop waiting
// without touching the futures, and a signal aborted already throws at the call and runs nothing. Tasks block on
// a file the test creates, so that what is running and what is pending is decided by events, not by timing.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { asCompleted, CancelledError, type Future, ProcessPoolExecutor, wait } from "../mod.ts";
import { backends, runtime, taskModule } from "./_backends.ts";
import * as tasks from "./tasks/abort.ts";

const module = taskModule("abort.ts");
const LONG = { timeout: 60_000 };

interface Gate {
  readonly dir: string;
  /** Lets every gated task finish. */
  release(): void;
  /** The numbers of the gated tasks that started (or finished), sorted. */
  started(): number[];
  finished(): number[];
}

// Runs `body` with a fresh pool of one worker, already started, and a gate; releases the gate, shuts the pool
// down and removes the directory afterwards.
async function withPool(
  backend: (typeof backends)[number],
  body: (pool: ProcessPoolExecutor, gate: Gate) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "procpool-abort-"));
  // The numbers of the tasks that left a marker ending in `suffix`.
  const marked = (suffix: string): number[] => {
    const names = readdirSync(dir).filter((name) => name.endsWith(suffix));
    return names.map((name) => Number.parseInt(name, 10)).sort((a, b) => a - b);
  };
  const gate: Gate = {
    dir,
    release: () => writeFileSync(join(dir, "release"), ""),
    started: () => marked(".started"),
    finished: () => marked(".finished"),
  };
  const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
  try {
    // The worker up first: on a loaded machine, starting one can take seconds.
    assert.equal(await pool.submit(tasks.double, 1).result(30_000), 2);
    await body(pool, gate);
  } finally {
    gate.release();
    await pool.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function until(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

for (const backend of backends) {
  describe(`AbortSignal on a real pool (${runtime}, ${backend})`, () => {
    it(
      "R4.6 submitWith({ signal }): an abort cancels the tasks still PENDING; the running one is untouched and finishes",
      LONG,
      async () => {
        await withPool(backend, async (pool, gate) => {
          const controller = new AbortController();
          const options = { signal: controller.signal };
          const first = pool.submitWith(options, tasks.gated, gate.dir, 0);
          const queued = range(6).map((i) => pool.submitWith(options, tasks.gated, gate.dir, i + 1));
          await until(() => gate.started().includes(0), "the first task to start");
          const pending = queued.filter((f) => f.state === "PENDING");
          assert.ok(pending.length >= 3, `most queued tasks are still pending (${pending.length} of 6)`);
          const reason = new Error("user cancelled");
          controller.abort(reason);
          assert.equal(first.cancelled(), false, "the running task is not cancelled");
          assert.equal(first.running(), true);
          assert.ok(pending.every((f) => f.cancelled()), "every pending task is cancelled at once");
          for (const f of pending) await assert.rejects(f.result(), CancelledError);
          gate.release();
          assert.equal(await first.result(30_000), 0);
          for (const f of queued) if (!pending.includes(f)) await f.result(30_000); // running at the abort: finish
          const neverRan = pending.map((f) => queued.indexOf(f) + 1);
          assert.deepEqual(gate.started().filter((x) => neverRan.includes(x)), [], "a cancelled task ran");
          assert.ok(gate.finished().includes(0), "the running task finished");
        });
      },
    );

    it(
      "R5.7 map({ signal }): an abort rejects the waiting next() with signal.reason and cancels the items still PENDING; running items finish",
      LONG,
      async () => {
        await withPool(backend, async (pool, gate) => {
          const controller = new AbortController();
          const items = range(8).map((x) => ({ dir: gate.dir, x }));
          const results = pool.map(tasks.gatedItem, items, { signal: controller.signal });
          await until(() => gate.started().includes(0), "the first item to start");
          const waiting = results.next();
          const reason = new Error("user cancelled");
          controller.abort(reason);
          await assert.rejects(waiting, (e) => e === reason);
          assert.deepEqual(await results.next(), { value: undefined, done: true });
          gate.release();
          await pool.shutdown(); // waits for whatever was running
          assert.ok(gate.finished().includes(0), "the running item finished");
          const started = gate.started();
          assert.ok(started.length <= 3, `only the items already handed out ran, not ${started}`);
          assert.equal(started.includes(7), false, "the last item never ran");
        });
      },
    );

    it(
      "R6.4 wait({ signal }): an abort rejects the wait with signal.reason; the pool futures are untouched",
      LONG,
      async () => {
        await withPool(backend, async (pool, gate) => {
          const f = pool.submit(tasks.gated, gate.dir, 1);
          await until(() => gate.started().includes(1), "the task to start");
          const controller = new AbortController();
          const waiting = wait([f], { signal: controller.signal });
          const reason = new Error("stop waiting");
          controller.abort(reason);
          await assert.rejects(waiting, (e) => e === reason);
          // AbortSignal.timeout() aborts with a DOMException named TimeoutError, as procpool's own TimeoutError is.
          await assert.rejects(wait([f], { signal: AbortSignal.timeout(50) }), { name: "TimeoutError" });
          assert.equal(f.running(), true, "the future still runs");
          gate.release();
          assert.equal(await f.result(30_000), 2);
        });
      },
    );

    it(
      "R6.5 asCompleted({ signal }): an abort makes the waiting next() throw signal.reason, then the iteration is done",
      LONG,
      async () => {
        await withPool(backend, async (pool, gate) => {
          const quick = pool.submit(tasks.double, 21);
          await quick;
          const blocked = pool.submit(tasks.gated, gate.dir, 2);
          const controller = new AbortController();
          const iterator = asCompleted([quick, blocked], { signal: controller.signal });
          assert.equal((await iterator.next()).value, quick);
          const waiting = iterator.next();
          const reason = new Error("stop iterating");
          controller.abort(reason);
          await assert.rejects(waiting, (e) => e === reason);
          assert.deepEqual(await iterator.next(), { value: undefined, done: true });
          assert.equal(blocked.done(), false, "the future is untouched");
          gate.release();
          assert.equal(await blocked.result(30_000), 4);
        });
      },
    );

    it(
      "R4.6 R5.7 R6.4 R6.5 a signal aborted already throws signal.reason at the call (wait: rejects), and nothing runs",
      LONG,
      async () => {
        await withPool(backend, async (pool, gate) => {
          const reason = new Error("aborted before");
          const signal = AbortSignal.abort(reason);
          const isReason = (e: unknown) => e === reason;
          assert.throws(() => pool.submitWith({ signal }, tasks.gated, gate.dir, 10), isReason);
          assert.throws(() => pool.map(tasks.gatedItem, [{ dir: gate.dir, x: 11 }], { signal }), isReason);
          assert.throws(() => pool.starmap(tasks.gated, [[gate.dir, 12]], { signal }), isReason);
          const done: Future<number> = pool.submit(tasks.double, 2);
          await done;
          await assert.rejects(wait([done], { signal }), isReason);
          assert.throws(() => asCompleted([done], { signal }), isReason);
          gate.release();
          await pool.shutdown();
          assert.deepEqual(gate.started(), [], "no task of an aborted call ran");
        });
      },
    );
  });
}

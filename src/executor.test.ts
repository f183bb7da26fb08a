// Unit tests of the executor's core logic (dispatch window, breaking, retiring, shutdown) on the in-memory backend.

import "./_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  BrokenProcessPool,
  CancelledError,
  ProcessPoolExecutor,
  RuntimeError,
  setLogger,
  WorkerExitError,
} from "../mod.ts";
import type { Future } from "../mod.ts";
import { countedAbort, memoryBackend, within } from "./_test_utils.ts";
import { RUN, RUN_ONE, STOP, type ToWorker } from "./protocol.ts";

const module = new URL("../conformance/tasks/basic.ts", import.meta.url);

// The argument lists of each batch a worker received.
function tasksIn(worker: { received: ToWorker[] }): unknown[][] {
  return worker.received.flatMap((m) => m[0] === RUN ? [m[3]] : m[0] === RUN_ONE ? [[m.slice(4)]] : []);
}

describe("ProcessPoolExecutor core (in-memory backend)", () => {
  it("R4.1 a worker starts with a window of one task, so queued slow tasks stay pending and cancellable", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
    const futures: Future<number>[] = [];
    for (let i = 0; i < 10; i++) futures.push(pool.submit("slowDouble", i, 30));
    await futures[0].result();
    assert.equal(backend.workers.length, 1);
    assert.equal(tasksIn(backend.workers[0])[0].length, 1, "the first message carries one task");
    assert.equal(futures[9].running(), false);
    assert.equal(futures[9].cancel(), true);
    await pool.shutdown();
    assert.equal(futures[9].cancelled(), true);
    assert.deepEqual(await Promise.all(futures.slice(0, 9).map((f) => f.result())), [0, 2, 4, 6, 8, 10, 12, 14, 16]);
    const ran = tasksIn(backend.workers[0]).flat();
    assert.equal(ran.length, 9, "the cancelled task was never sent");
  });

  it("R4.1 the window widens while tasks are quick, batching many tasks per message", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
    const futures = Array.from({ length: 3000 }, (_, i) => pool.submit("double", i));
    const results = await Promise.all(futures.map((f) => f.result()));
    assert.deepEqual(results, Array.from({ length: 3000 }, (_, i) => i * 2));
    const batches = backend.workers.flatMap(tasksIn);
    assert.ok(Math.max(...batches.map((b) => b.length)) > 8, "some message carries more than 8 tasks");
    assert.ok(batches.length < 1500, `3000 tasks took ${batches.length} messages`);
    await pool.shutdown();
  });

  it("R7.4 workers start lazily: one task on an idle pool uses one worker, reused for the next", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 4, backend });
    for (let i = 0; i < 3; i++) assert.equal(await pool.submit("double", i), i * 2);
    assert.equal(backend.workers.length, 1);
    await pool.shutdown();
    assert.equal(backend.workers[0].exited, true);
  });

  it("R7.4 maxWorkers defaults to the backend's parallelism", async () => {
    const backend = memoryBackend({ maxWorkers: 3 });
    const pool = new ProcessPoolExecutor({ module, backend });
    const futures = Array.from({ length: 12 }, (_, i) => pool.submit("slowDouble", i, 20));
    await Promise.all(futures.map((f) => f.result()));
    assert.equal(backend.workers.length, 3);
    await pool.shutdown();
  });

  it("R8.1 a worker that dies fails every unfinished future, in submission order, with BrokenProcessPool", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
    const done = await pool.submit("double", 1);
    const order: number[] = [];
    const futures = Array.from({ length: 5 }, (_, i) => pool.submit("slowDouble", i, 1000));
    futures.forEach((f, i) => f.addDoneCallback(() => order.push(i)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    backend.workers[0].crash({ code: 7, signal: null });
    for (const f of futures) {
      const error = await f.exception();
      assert.ok(error instanceof BrokenProcessPool);
      assert.equal(
        error.message,
        "A process in the process pool was terminated abruptly while the future was running or pending.",
      );
      assert.ok(error.cause instanceof WorkerExitError);
      assert.equal((error.cause as WorkerExitError).code, 7);
      assert.match((error.cause as WorkerExitError).message, /worker 1 \(memory\) exited with code 7/);
    }
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(done, 2);
    assert.throws(() => pool.submit("double", 1), BrokenProcessPool);
    await pool.shutdown();
  });

  it("R1.4 the broken flag is set before futures fail: submit() in their callbacks throws", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
    const future = pool.submit("slowDouble", 1, 1000);
    let thrown: unknown;
    future.addDoneCallback(() => {
      try {
        pool.submit("double", 1);
      } catch (error) {
        thrown = error;
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    backend.workers[0].crash({ code: null, signal: "SIGKILL" });
    await future.exception();
    assert.ok(thrown instanceof BrokenProcessPool);
    assert.equal(
      (thrown as Error).message,
      "A child process terminated abruptly, the process pool is not usable anymore",
    );
    await pool.shutdown();
  });

  it("R8.3 an idle worker that dies breaks the pool too", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
    assert.equal(await pool.submit("double", 2), 4);
    backend.workers[0].crash({ code: 1, signal: null });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.throws(() => pool.submit("double", 1), BrokenProcessPool);
    await pool.shutdown();
  });

  it("R7.5 maxTasksPerChild retires a worker after n tasks and a fresh one takes the queued work", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, maxTasksPerChild: 2, backend });
    const futures = Array.from({ length: 7 }, (_, i) => pool.submit("double", i));
    assert.deepEqual(await Promise.all(futures.map((f) => f.result())), [0, 2, 4, 6, 8, 10, 12]);
    assert.equal(backend.workers.length, 4);
    for (const worker of backend.workers) assert.ok(tasksIn(worker).flat().length <= 2);
    await pool.shutdown();
    assert.ok(backend.workers.every((w) => w.exited));
  });

  it("R7.2 shutdown() waits for running work, stops every worker, and every call resolves", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
    const futures = Array.from({ length: 4 }, (_, i) => pool.submit("slowDouble", i, 20));
    const calls = [pool.shutdown(), pool.shutdown(), pool.shutdown({ wait: true })];
    await Promise.all(calls);
    assert.ok(futures.every((f) => f.done() && !f.cancelled()));
    assert.ok(backend.workers.every((w) => w.exited));
    assert.ok(backend.workers.every((w) => w.received.some((m) => m[0] === STOP)));
    assert.throws(() => pool.submit("double", 1), RuntimeError);
    await pool.shutdown();
  });

  it("R7.2 shutdown({ cancelFutures: true }) cancels what has not started and runs what has", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
    const futures = Array.from({ length: 8 }, (_, i) => pool.submit("slowDouble", i, 20));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await pool.shutdown({ cancelFutures: true });
    const cancelled = futures.filter((f) => f.cancelled()).length;
    assert.ok(cancelled >= 5, `${cancelled} of 8 cancelled`);
    for (const f of futures.filter((f) => !f.cancelled())) assert.equal(typeof await f.result(), "number");
  });

  it("R9.1 a backend that cannot start a worker breaks the pool; its error is the cause", async () => {
    const refusal = new Error("no workers here");
    const pool = new ProcessPoolExecutor({
      module,
      backend: {
        name: "refusing",
        defaultMaxWorkers: 1,
        spawn() {
          throw refusal;
        },
      },
    });
    const error = await pool.submit("double", 1).exception();
    assert.ok(error instanceof BrokenProcessPool);
    assert.equal(error.cause, refusal);
    await pool.shutdown();
  });

  it("R9.1 a backend object without spawn() is a TypeError", () => {
    assert.throws(
      () => new ProcessPoolExecutor({ module, backend: {} as unknown as ReturnType<typeof memoryBackend> }),
      TypeError,
    );
  });

  it("R3.3 a done-callback that throws is logged and the pool carries on", async () => {
    const logged: string[] = [];
    const previous = setLogger((message) => logged.push(message));
    try {
      const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend: memoryBackend() });
      const future = pool.submit("double", 4);
      future.addDoneCallback(() => {
        throw new Error("callback failed");
      });
      assert.equal(await future, 8);
      assert.match(logged[0], /^exception calling callback for <Future at #\d+ state=finished returned number>$/);
      assert.equal(await pool.submit("double", 5), 10);
      await pool.shutdown();
    } finally {
      setLogger(previous);
    }
  });

  it("R2.6 tasks too large to send together travel apart; only one whose own arguments cannot be sent fails", async () => {
    const backend = memoryBackend({ maxMessageLength: 1_000 });
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
    // Quick tasks submitted with them widen the dispatch window, so that the big ones meet in one share.
    const quick = Array.from({ length: 40 }, (_, i) => pool.submit("double", i));
    const a = pool.submit("identity", "a".repeat(600));
    const b = pool.submit("identity", "b".repeat(600));
    const small = pool.submit("double", 2);
    const tooBig = pool.submit("identity", "c".repeat(1_200));
    assert.deepEqual(await Promise.all(quick), quick.map((_, i) => i * 2));
    assert.equal(await a, "a".repeat(600));
    assert.equal(await b, "b".repeat(600));
    assert.equal(await small, 4);
    const error = await tooBig.exception();
    assert.ok(error instanceof TypeError, String(error));
    assert.match(error.message, /^Cannot send the arguments of identity: message of \d+ characters is too long$/);
    // No task went twice.
    const ids = backend.workers[0].received.flatMap((m) => m[0] === RUN ? m[1] : m[0] === RUN_ONE ? [m[1]] : []);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(ids.length, 43);
    assert.equal(await pool.submit("double", 3), 6);
    await pool.shutdown();
  });

  it("R2.6 a result too large to send fails only its own future; results sent together go apart", async () => {
    const channel = new URL("../conformance/tasks/r_channel.ts", import.meta.url);
    const pool = new ProcessPoolExecutor({
      module: channel,
      maxWorkers: 1,
      backend: memoryBackend({ maxMessageLength: 1_000 }),
    });
    const error = await pool.submit("huge", 600).exception();
    assert.ok(error instanceof TypeError, String(error));
    assert.match(error.message, /^Cannot send the task's result back: message of \d+ characters is too long$/);
    // Outcomes that fit one by one but not together (the worker batches quick ones) all arrive.
    const quick = Array.from({ length: 40 }, (_, i) => pool.submit("quick", i));
    const batch = Array.from({ length: 6 }, (_, i) => pool.submit("lengths", String(i).repeat(300)));
    assert.deepEqual(await Promise.all(quick), quick.map((_, i) => i));
    assert.deepEqual(await Promise.all(batch), batch.map(() => [300]));
    await pool.shutdown();
  });

  it("R4.5 a caller's setResult() on a pending pool future skips that task and holds up no other", async () => {
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend: memoryBackend() });
    const busy = pool.submit("slowDouble", 1, 30);
    const taken = pool.submit("double", 2);
    const next = pool.submit("double", 3);
    taken.setResult(99);
    assert.deepEqual(await Promise.all([busy, taken, next]), [2, 99, 6]);
    await pool.shutdown();
  });

  it("R4.5 a caller's setResult() on the task held RUNNING for the next free worker keeps it from running", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
    const busy = pool.submit("slowDouble", 1, 100);
    const held = pool.submit("double", 2);
    while (!busy.running()) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(held.running(), true, "the next task waits RUNNING, as in CPython's call queue");
    assert.equal(held.cancel(), false);
    held.setResult(99);
    assert.deepEqual(await Promise.all([busy, held, pool.submit("double", 3)]), [2, 99, 6]);
    const runs = backend.workers[0].received.filter((m) => m[0] === RUN || m[0] === RUN_ONE);
    assert.equal(runs.length, 2, "the held task never went to the worker");
    await pool.shutdown();
  });

  it("R9.1 a worker that fails to start in the middle of a dispatch fails that dispatch's tasks as broken", async () => {
    const refusal = new Error("no second worker");
    const inner = memoryBackend();
    let spawned = 0;
    const backend = {
      name: "second-refuses",
      defaultMaxWorkers: 2,
      spawn() {
        if (spawned++ === 1) throw refusal;
        return inner.spawn();
      },
    };
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend });
    const futures = [pool.submit("double", 1), pool.submit("double", 2)];
    for (const future of futures) {
      const error = await future.exception();
      assert.ok(error instanceof BrokenProcessPool, String(error));
      assert.equal(error.cause, refusal);
    }
    await pool.shutdown();
  });
});

async function until(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe("ProcessPoolExecutor with an AbortSignal (in-memory backend)", () => {
  it("R4.6 submitWith({ signal }): an abort cancels the tied tasks still PENDING, never a RUNNING one (held in the call queue included); the cancelled are never sent", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
    const { controller, signal, listeners } = countedAbort();
    const first = pool.submitWith({ signal }, "slowDouble", 1, 100);
    const queued = Array.from({ length: 6 }, (_, i) => pool.submitWith({ signal }, "slowDouble", 100 + i, 10));
    await until(() => first.running(), "the first task to run");
    assert.equal(listeners(), 1, "one listener for every task tied to the signal");
    const pendingAtAbort = queued.filter((f) => f.state === "PENDING");
    assert.ok(pendingAtAbort.length >= 4, `most queued tasks are still pending (${pendingAtAbort.length} of 6)`);
    controller.abort(new Error("stop"));
    assert.ok(pendingAtAbort.every((f) => f.cancelled()), "every pending task is cancelled at the abort");
    assert.equal(first.cancelled(), false, "a running task is not");
    assert.equal(await first.result(), 2, "and it finishes");
    for (const f of queued) {
      if (pendingAtAbort.includes(f)) await assert.rejects(f.result(), CancelledError);
      else assert.equal(typeof await f.result(), "number");
    }
    const sent = tasksIn(backend.workers[0]).flat().map((args) => (args as number[])[0]);
    for (const f of pendingAtAbort) assert.ok(!sent.includes(100 + queued.indexOf(f)), "a cancelled task was sent");
    assert.equal(listeners(), 0, "the listener goes once the tied tasks are done");
    await pool.shutdown();
  });

  it("R4.6 submitWith({ signal }): a signal aborted already throws signal.reason at the call and submits nothing", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
    const reason = new Error("aborted before");
    assert.throws(() => pool.submitWith({ signal: AbortSignal.abort(reason) }, "double", 1), (e) => e === reason);
    assert.throws(() => pool.submitWith({ signal: AbortSignal.abort("why") }, "double", 1), (e) => e === "why");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(backend.workers.length, 0, "no task, so no worker was started");
    await pool.shutdown();
  });

  it("R4.6 submitWith() with a signal aborted already still throws a bad fn's TypeError, a closed pool's RuntimeError and a broken pool's BrokenProcessPool first", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
    const signal = AbortSignal.abort(new Error("aborted before"));
    for (const fn of [1, null, {}] as never[]) {
      assert.throws(() => pool.submitWith({ signal }, fn, 1), TypeError, "a bad fn is reported, not hidden");
    }
    assert.throws(() => pool.submitWith({ signal }, "double", 1), (e) => e === signal.reason, "then the signal");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(backend.workers.length, 0, "nothing was submitted");
    const running = pool.submit("slowDouble", 1, 1000);
    await until(() => running.running() && backend.workers.length === 1, "a task to run");
    backend.workers[0].crash({ code: 1, signal: null });
    assert.ok(await within(running.exception()) instanceof BrokenProcessPool, "the pool is broken");
    assert.throws(() => pool.submitWith({ signal }, "double", 1), BrokenProcessPool);
    await pool.shutdown();
    const closed = new ProcessPoolExecutor({ module, maxWorkers: 1, backend: memoryBackend() });
    await closed.shutdown();
    assert.throws(() => closed.submitWith({ signal }, "double", 1), RuntimeError);
  });

  it("R4.6 submitWith(): without a signal, or with one that never aborts, the task runs as submit() runs it; a done task holds no listener", async () => {
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend: memoryBackend() });
    const { signal, listeners } = countedAbort();
    assert.equal(await pool.submitWith({}, "double", 21), 42);
    assert.equal(await pool.submitWith<number>({ signal }, "double", 2), 4);
    const failed = pool.submitWith({ signal }, "nope", 1); // not an export: done before any listener is needed
    await assert.rejects(failed.result(), TypeError);
    assert.equal(listeners(), 0);
    await pool.shutdown();
    assert.throws(() => pool.submitWith({ signal }, "double", 1), RuntimeError);
  });

  it("R5.7 starmap({ signal }): an abort cancels the items still PENDING, rejects the waiting next() with signal.reason, and running items finish", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
    await pool.submit("double", 1); // the worker is up
    const { controller, signal, listeners } = countedAbort();
    const items = Array.from({ length: 10 }, (_, i): [number, number] => [i, 30]);
    const results = pool.starmap<(x: number, ms: number) => Promise<number>>("slowDouble", items, { signal });
    assert.deepEqual(await within(results.next()), { value: 0, done: false });
    const waiting = results.next();
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(within(waiting), (e) => e === reason);
    assert.deepEqual(await results.next(), { value: undefined, done: true });
    assert.equal(listeners(), 0);
    await within(pool.shutdown()); // whatever was running finishes
    const sent = tasksIn(backend.workers[0]).flat().length - 1; // less the warm-up task
    assert.ok(sent <= 4, `only the items already handed out ran, not ${sent} of 10`);
  });

  it("R5.7 map() and starmap() with a signal aborted already throw signal.reason at the call, read nothing and submit nothing", async () => {
    const backend = memoryBackend();
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 1, backend });
    let read = 0;
    function* items(): Generator<[number]> {
      for (let i = 0; i < 3; i++) {
        read++;
        yield [i];
      }
    }
    const reason = new Error("aborted before");
    const signal = AbortSignal.abort(reason);
    assert.throws(() => pool.map("double", items(), { signal }), (e) => e === reason);
    assert.throws(() => pool.starmap("add", items(), { signal }), (e) => e === reason);
    assert.throws(() => pool.map("double", [], { signal }), (e) => e === reason);
    assert.equal(read, 0, "the iterable was not read");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(backend.workers.length, 0, "nothing was submitted");
    await pool.shutdown();
  });

  it("R5.7 map({ signal }) with a signal that never aborts yields every result, and holds no listener at the end", async () => {
    const pool = new ProcessPoolExecutor({ module, maxWorkers: 2, backend: memoryBackend() });
    const { signal, listeners } = countedAbort();
    const seen: number[] = [];
    for await (const x of pool.map<(x: number) => number>("double", [1, 2, 3, 4, 5], { signal, chunksize: 2 })) {
      seen.push(x);
    }
    assert.deepEqual(seen, [2, 4, 6, 8, 10]);
    assert.equal(listeners(), 0);
    await pool.shutdown();
  });
});

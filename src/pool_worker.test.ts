// Unit tests of the pool's record of one worker: its state machine, the tasks it holds, its window (R4.1, R7.5).

import "./_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Future } from "./future.ts";
import { PoolWorker, type WorkItem } from "./pool_worker.ts";
import { CALL, RUN, RUN_ONE, STOP } from "./protocol.ts";
import type { WorkerHandle } from "./runtime/backend.ts";

// A handle that records what is sent, and can be told to refuse a message as a transport does.
function handle(): WorkerHandle & { sent: unknown[]; refuse: boolean; terminated: number } {
  return {
    id: 1,
    sent: [],
    refuse: false,
    terminated: 0,
    send(message: unknown) {
      if (this.refuse) throw new RangeError("message too long");
      this.sent.push(message);
    },
    onMessage() {},
    onExit() {},
    terminate() {
      this.terminated++;
      return Promise.resolve();
    },
  };
}

let nextId = 1;
function item(args: unknown[] = [nextId]): WorkItem {
  return {
    id: nextId++,
    future: new Future(),
    fn: "f",
    fnIndex: 0,
    args: args as never,
    buffers: undefined,
    mode: CALL,
    reserved: false,
  };
}

describe("PoolWorker", () => {
  it("R4.1 a starting worker has no room; once ready, a window of one task", () => {
    const worker = new PoolWorker(handle(), undefined);
    assert.equal(worker.state, "starting");
    assert.equal(worker.room(), 0);
    assert.throws(() => worker.assign([item()]), /a starting worker cannot take 1 tasks/);
    worker.markReady();
    assert.equal(worker.state, "ready");
    assert.equal(worker.room(), 1);
  });

  it("R4.1 assign() sends one message, makes the futures RUNNING, and holds the tasks until take()", () => {
    const h = handle();
    const worker = new PoolWorker(h, undefined);
    worker.markReady();
    const one = item([7]);
    worker.assign([one]);
    assert.deepEqual(h.sent, [[RUN_ONE, one.id, 0, CALL, 7]]);
    assert.equal(one.future.running(), true);
    assert.equal(worker.load, 1);
    assert.equal(worker.room(), 0);
    assert.equal(worker.take(one.id), one);
    assert.equal(worker.take(one.id), undefined);
    assert.equal(worker.load, 0);
  });

  it("R4.1 the window widens while tasks are quick, at most doubling per reply, and narrows on a slow one", () => {
    const h = handle();
    const worker = new PoolWorker(h, undefined);
    worker.markReady();
    const rooms = [];
    for (let i = 0; i < 4; i++) {
      worker.adapt(1, 0.01);
      rooms.push(worker.room());
    }
    assert.deepEqual(rooms, [2, 4, 8, 16]);
    const batch = [item(), item(), item()];
    worker.assign(batch);
    assert.equal((h.sent[0] as unknown[])[0], RUN, "several tasks travel as one batch");
    assert.equal(worker.room(), 13);
    worker.adapt(1, 50);
    assert.equal(worker.room(), 0, "a slow task narrows the window back to one, which the batch fills");
    for (const task of batch) worker.take(task.id);
    worker.restIfIdle();
    assert.equal(worker.room(), 1);
  });

  it("R9 a message the transport refuses changes nothing: no task held, no future RUNNING", () => {
    const h = handle();
    const worker = new PoolWorker(h, 2);
    worker.markReady();
    h.refuse = true;
    const task = item();
    assert.throws(() => worker.assign([task]), RangeError);
    assert.equal(worker.load, 0);
    assert.equal(task.future.running(), false);
    assert.equal(worker.state, "ready");
    h.refuse = false;
    worker.assign([task]);
    assert.equal(worker.load, 1);
  });

  it("R7.5 under maxTasksPerChild a worker given its last task is retiring, gets no more, and its exit is expected once idle", () => {
    const worker = new PoolWorker(handle(), 2);
    worker.markReady();
    worker.adapt(1, 0.01); // a window of two
    const tasks = [item(), item()];
    worker.assign(tasks);
    assert.equal(worker.state, "retiring");
    assert.equal(worker.room(), 0);
    worker.stop();
    assert.equal(worker.state, "retiring", "stop() leaves a retiring worker to exit by itself");
    for (const task of tasks) worker.take(task.id);
    assert.equal(worker.exited(), true);
    assert.equal(worker.state, "exited");
  });

  it("R8.1 an exit the pool did not ask for is unexpected; takeAll() hands back every task held, in order", () => {
    const worker = new PoolWorker(handle(), undefined);
    worker.markReady();
    worker.adapt(1, 0.01);
    const tasks = [item(), item()];
    worker.assign(tasks);
    assert.equal(worker.exited(), false);
    assert.deepEqual(worker.takeAll(), tasks);
    assert.equal(worker.load, 0);
  });

  it("R7.2 stop() sends STOP once, from starting or ready; kill() terminates; both expect the exit", () => {
    const h = handle();
    const stopped = new PoolWorker(h, undefined);
    stopped.stop();
    stopped.stop();
    assert.deepEqual(h.sent, [[STOP]]);
    assert.equal(stopped.state, "stopping");
    assert.equal(stopped.room(), 0);
    assert.equal(stopped.exited(), true);

    const h2 = handle();
    const killed = new PoolWorker(h2, undefined);
    killed.markReady();
    killed.kill();
    assert.equal(h2.terminated, 1);
    assert.equal(killed.exited(), true);
    killed.kill();
    assert.equal(h2.terminated, 1, "an exited worker is not killed again");
  });

  it("R1.3 markFatal keeps the first report", () => {
    const worker = new PoolWorker(handle(), undefined);
    assert.equal(worker.fatal === undefined, true);
    const first = new Error("first");
    worker.markFatal(first);
    worker.markFatal(new Error("second"));
    assert.equal(worker.fatal?.error, first);
  });
});

// The rule book over the network: pools whose workers run on a procpool agent, through a real nats-server.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ALL_COMPLETED,
  asCompleted,
  BrokenProcessPool,
  type Future,
  ProcessPoolExecutor,
  RuntimeError,
  wait,
} from "../mod.ts";
import { natsBackend, NatsWorkerError } from "../nats.ts";
import { runtime, taskModule } from "./_backends.ts";
import { type AgentProcess, type NatsServer, startAgentProcess, startNatsServer, TASKS_DIR } from "./_nats.ts";
import { runScript } from "./_scripts.ts";
import * as basic from "./tasks/basic.ts";
import * as r2 from "./tasks/r2_errors.ts";
import * as r5 from "./tasks/r5_map.ts";

const LONG = { timeout: 30_000 };

let server: NatsServer;
const agents: AgentProcess[] = [];

// The cause chain of a broken pool, as one text to match against.
function causes(error: unknown): string {
  const lines: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) lines.push(`${e.name}: ${e.message}`);
  return lines.join("\n  caused by ");
}

describe(`NATS backend: the rule book through an agent (${runtime})`, () => {
  before(async () => {
    server = await startNatsServer();
    // Two agents: one with worker processes, one with threads, so both local backends serve remote pools.
    agents.push(
      await startAgentProcess(server.url, [
        "--pool",
        "rules",
        "--workers",
        "4",
        "--backend",
        "process",
        "--allow-module",
        TASKS_DIR.href,
      ]),
    );
    agents.push(
      await startAgentProcess(server.url, [
        "--pool",
        "threads",
        "--workers",
        "2",
        "--backend",
        "worker",
        "--allow-module",
        TASKS_DIR.href,
      ]),
    );
  });
  after(async () => {
    for (const agent of agents) await agent.stop();
    await server?.stop();
  });

  // A long silence before an agent counts as dead: these tests are about semantics, not faults, and must not
  // fail on a machine loaded enough to delay a heartbeat by a second (nats_faults.test.ts keeps the default).
  const backend = (pool = "rules", extra = {}) =>
    natsBackend({ servers: server.url, pool, deadAfterMs: 5000, ...extra });

  for (const pool of ["rules", "threads"]) {
    it(`R1/R2 results and task errors come back faithfully (${pool})`, LONG, async () => {
      await using executor = new ProcessPoolExecutor({ module: taskModule("r2_errors.ts"), backend: backend(pool) });
      assert.equal(await executor.submit(r2.double, 21).result(), 42);
      await assert.rejects(executor.submit(r2.throwMine, "sync").result(), r2.MyError);
      const error = await executor.submit(r2.throwDetailed).exception() as Error & Record<string, unknown>;
      assert.equal(error.message, "top");
      assert.equal(error.code, "E_TOP");
      assert.equal(error.errno, -2);
      const middle = error.cause as Error;
      assert.ok(middle instanceof RangeError);
      const root = middle.cause as Error;
      assert.ok(root instanceof r2.MyError);
      assert.deepEqual(root.cause, { reason: "disk", codes: [1, 2] });
      const mine = await executor.submit(r2.throwMine, "located").exception() as Error;
      assert.match(mine.stack!, /r2_errors\.ts:\d+/, "the remote stack names the task module");
      // The pool stays usable after task errors.
      assert.equal(await executor.submit(r2.double, 2).result(), 4);
    });

    it(`R10 binary data travels both ways (${pool})`, LONG, async () => {
      await using executor = new ProcessPoolExecutor({ module: taskModule("r10_binary.ts"), backend: backend(pool) });
      const bytes = new Uint8Array([1, 2, 3, 250]);
      const back = await executor.submit("identity", { bytes, floats: new Float64Array([0.5, -1]) }).result() as {
        bytes: Uint8Array;
        floats: Float64Array;
      };
      assert.deepEqual(back.bytes, bytes);
      assert.deepEqual(back.floats, new Float64Array([0.5, -1]));
      const counted = await executor.submit("countUp", 300_000, 7).result() as Uint8Array;
      assert.equal(counted.length, 300_000);
      assert.equal(counted[299_999], (7 + 299_999) & 255);
    });
  }

  it("frames larger than the server's max_payload travel in pieces", LONG, async () => {
    await using executor = new ProcessPoolExecutor({ module: taskModule("basic.ts"), backend: backend() });
    const big = "x".repeat(3 * 1024 * 1024) + "é";
    assert.equal(await executor.submit(basic.identity, big).result(), big);
  });

  it("R1 a failing initializer breaks the pool; a later submit throws BrokenProcessPool", LONG, async () => {
    const executor = new ProcessPoolExecutor({
      module: taskModule("basic.ts"),
      backend: backend(),
      maxWorkers: 2,
      initializer: basic.failingInit,
      initArgs: ["no init"],
    });
    const futures = [1, 2, 3].map((x) => executor.submit(basic.double, x));
    for (const future of futures) {
      const error = await future.exception();
      assert.ok(error instanceof BrokenProcessPool, String(error));
    }
    assert.throws(() => executor.submit(basic.double, 1), BrokenProcessPool);
    const cause = (await futures[0].exception() as Error).cause as Error;
    assert.equal(cause.name, "ValueError");
    assert.equal(cause.message, "no init");
    await executor.shutdown();
  });

  it("R3 done callbacks run with the future, in order, once", LONG, async () => {
    await using executor = new ProcessPoolExecutor({ module: taskModule("basic.ts"), backend: backend() });
    const seen: string[] = [];
    const future = executor.submit(basic.slowDouble, 5, 50);
    const settled = new Promise<void>((resolve) => {
      future.addDoneCallback((f) => seen.push(`a:${f === future}`));
      future.addDoneCallback(() => {
        seen.push("b");
        resolve();
      });
    });
    await settled;
    assert.deepEqual(seen, ["a:true", "b"]);
    assert.equal(await future.result(), 10);
  });

  it("R5 map keeps order, chunks, and raises the failing item's error at its place", LONG, async () => {
    await using executor = new ProcessPoolExecutor({ module: taskModule("r5_map.ts"), backend: backend() });
    const out: number[] = [];
    for await (const x of executor.map(r5.double, Array.from({ length: 2000 }, (_, i) => i), { chunksize: 100 })) {
      out.push(x as number);
    }
    assert.deepEqual(out, Array.from({ length: 2000 }, (_, i) => 2 * i));
    const got: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const x of executor.map(r5.double, [1, 2, -3, 4], { chunksize: 2 })) got.push(x);
      })(),
      { name: "ValueError", message: "negative -3" },
    );
    assert.deepEqual(got, [2, 4]);
  });

  it("R6 wait() and asCompleted() over remote futures", LONG, async () => {
    await using executor = new ProcessPoolExecutor({ module: taskModule("basic.ts"), backend: backend() });
    const futures: Future<unknown>[] = [
      executor.submit(basic.slowDouble, 1, 150),
      executor.submit(basic.slowDouble, 2, 10),
      executor.submit(basic.fail, "nope"),
    ];
    const { done, notDone } = await wait(futures, { returnWhen: ALL_COMPLETED });
    assert.equal(done.size, 3);
    assert.equal(notDone.size, 0);
    const order: unknown[] = [];
    const more = [executor.submit(basic.slowDouble, 1, 300), executor.submit(basic.slowDouble, 2, 10)];
    for await (const f of asCompleted(more)) order.push(f);
    assert.deepEqual(order, [more[1], more[0]]);
  });

  it("R7 shutdown waits for the work, then submit throws RuntimeError", LONG, async () => {
    const executor = new ProcessPoolExecutor({ module: taskModule("basic.ts"), backend: backend() });
    const futures = [1, 2, 3, 4].map((x) => executor.submit(basic.slowDouble, x, 100));
    await executor.shutdown({ wait: true });
    for (const [i, f] of futures.entries()) assert.equal(await f.result(), 2 * (i + 1));
    assert.throws(() => executor.submit(basic.double, 1), RuntimeError);
  });

  it("R7.5 maxTasksPerChild replaces remote workers and loses no task", LONG, async () => {
    await using executor = new ProcessPoolExecutor({
      module: taskModule("basic.ts"),
      backend: backend(),
      maxWorkers: 2,
      maxTasksPerChild: 2,
    });
    const pids = await Promise.all(Array.from({ length: 8 }, () => executor.submit(basic.pid).result()));
    assert.equal(pids.length, 8);
    assert.ok(new Set(pids).size >= 4, `at least four workers ran the eight tasks: ${pids}`);
  });

  it("R7.7 a script that forgets shutdown() still ends", LONG, async () => {
    const run = await runScript("conformance/nats/forgetful_script.ts", [server.url, "rules"], 20_000);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /results 2,4,6/);
  });

  it("an agent refuses a module outside --allow-module, and the pool breaks saying so", LONG, async () => {
    const executor = new ProcessPoolExecutor({
      module: new URL("../src/protocol.ts", import.meta.url).href,
      backend: backend(),
      maxWorkers: 1,
    });
    const error = await executor.submit("encode", 1).exception();
    assert.ok(error instanceof BrokenProcessPool, String(error));
    assert.match(causes(error), /refuses module .*protocol\.ts/);
    assert.ok((error.cause as Error).cause instanceof NatsWorkerError);
    await executor.shutdown();
  });

  it("without an agent for the pool, the pool breaks after spawnTimeoutMs", LONG, async () => {
    const executor = new ProcessPoolExecutor({
      module: taskModule("basic.ts"),
      backend: backend("nobody", { spawnTimeoutMs: 300 }),
    });
    const started = Date.now();
    const error = await executor.submit(basic.double, 1).exception();
    assert.ok(error instanceof BrokenProcessPool, String(error));
    assert.match(
      causes(error),
      /no procpool agent of NATS pool "nobody" took the worker within 300 ms \(no agent with room/,
    );
    assert.ok(Date.now() - started < 5000);
    await executor.shutdown();
  });

  it("a NATS server that cannot be reached breaks the pool, saying so", LONG, async () => {
    const executor = new ProcessPoolExecutor({
      module: taskModule("basic.ts"),
      // Port 1 on loopback: nothing listens there.
      backend: natsBackend({ servers: "nats://127.0.0.1:1", pool: "rules" }),
    });
    const error = await executor.submit(basic.double, 1).exception();
    assert.ok(error instanceof BrokenProcessPool, String(error));
    assert.match(causes(error), /could not connect to the NATS servers/);
    await executor.shutdown();
  });

  it("more workers than agents can host: the pool waits for room, then runs everything", LONG, async () => {
    // The "threads" agent hosts two workers; the other pools' tests are done with theirs.
    await using executor = new ProcessPoolExecutor({
      module: taskModule("basic.ts"),
      backend: backend("threads"),
      maxWorkers: 2,
      maxTasksPerChild: 1,
    });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => executor.submit(basic.double, i).result()),
    );
    assert.deepEqual(results, [0, 2, 4, 6, 8, 10]);
  });
});

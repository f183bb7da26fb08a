// Unit tests for framing.ts (marks, text, the frame checks), a pool fed bad frames, and the flags children get.

import "./_test_guard.ts";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BrokenProcessPool, ProcessPoolExecutor, WorkerProtocolError } from "../mod.ts";
import type { Backend, WorkerExit, WorkerHandle } from "../mod.ts";
import { checkFromWorker, checkToWorker, FOREIGN, FrameError, frameFormat, packFrame, unpackFrame } from "./framing.ts";
import {
  decode,
  EXITING,
  FATAL,
  type FromWorker,
  HELLO,
  READY,
  RESULT_ONE,
  RESULTS,
  RUN_ONE,
  STOP,
} from "./protocol.ts";
import { childExecArgv, threadExecArgv } from "./runtime/exec_argv.ts";

const module = new URL("../conformance/tasks/basic.ts", import.meta.url);
const FORMATS = [
  frameFormat("node", "process"),
  frameFormat("deno", "process"),
  frameFormat("node", "worker"),
  frameFormat("bun", "worker"),
];

describe("framing", () => {
  it("R10 every format carries every frame there and back unchanged", () => {
    const frames = [[READY], [RESULT_ONE, 3, 1, { a: [1, "x", null] }, 0.25], [STOP], [
      EXITING,
      3,
    ]] as unknown as FromWorker[];
    for (const format of FORMATS) {
      for (const frame of frames) {
        const data = structuredClone(packFrame(frame, format));
        assert.deepEqual(unpackFrame(data, format), frame);
      }
    }
  });

  it("R10 on a shared channel, whatever task code sends is foreign, however it looks", () => {
    for (const format of FORMATS.filter((f) => f.shared)) {
      for (const data of ["ready", { progress: 0.5 }, [5, null], [6, 1, 1, "x", 0], null, 42, [8, 0]]) {
        assert.equal(unpackFrame(data, format), FOREIGN, JSON.stringify(data));
      }
    }
  });

  it("R10 a marked or private frame that is not JSON is a FrameError, never a throw", () => {
    const text = packFrame([READY], frameFormat("deno", "process")) as string;
    const broken = unpackFrame(text.slice(0, -2), frameFormat("deno", "process"));
    assert.ok(broken instanceof FrameError);
    assert.throws(() => checkFromWorker(broken), FrameError);
    assert.ok(unpackFrame("{oops", frameFormat("node", "worker")) instanceof FrameError);
  });

  it("R10 checkFromWorker accepts the protocol's frames and rejects any other shape, saying what it saw", () => {
    const good = [
      [READY],
      [RESULT_ONE, 1, 0, "x", 0],
      [RESULTS, [1, 2], [0, 1], ["a", "b"], 3],
      [FATAL, "initializer", "e"],
      [EXITING, 0],
    ];
    for (const frame of good) assert.equal(checkFromWorker(frame), frame);
    const bad = [
      null,
      "ready",
      {},
      [],
      [99],
      [READY, 1],
      [RESULT_ONE, "1", 0, "x", 0],
      [RESULT_ONE, 1, 2, "x", 0],
      [RESULT_ONE, 1, 0, "x", "fast"],
      [RESULT_ONE, 1, 0, "x", NaN],
      [RESULTS, [1, 2], [0], ["a", "b"], 3],
      [RESULTS, [1, -2], [0, 0], ["a", "b"], 3],
      [FATAL, "constructor", "e"],
      [EXITING, "3"],
      Object.assign(Object.create(null), { 0: READY, length: 1 }),
    ];
    for (const frame of bad) {
      assert.throws(() => checkFromWorker(frame), (e) => e instanceof FrameError && e.message.length > 0);
    }
    assert.throws(() => checkToWorker([HELLO, null]), FrameError);
    assert.throws(() => checkToWorker([RUN_ONE, "a", 0, 0]), FrameError);
  });

  it("R2.3 an error class named by a worker is looked up in tables without a prototype", () => {
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const error = decode({ "\u0000": "E", c: name, n: "Error", m: "forged" });
      assert.ok(error instanceof Error, name);
      assert.equal((error as Error).message, "forged");
    }
    assert.throws(() => decode({ "\u0000": "V", t: "constructor", b: { "\u0000": "B", v: "" }, o: 0, l: 0 }));
  });
});

// A backend whose one worker answers the hello with `frames`, then lives on until terminated.
function backendSending(frames: unknown[]): Backend {
  return {
    name: "scripted",
    defaultMaxWorkers: 1,
    spawn(): WorkerHandle {
      let onMessage: ((message: unknown) => void) | undefined;
      let onExit: ((exit: WorkerExit) => void) | undefined;
      let exited = false;
      return {
        id: 41,
        send(message) {
          if (Array.isArray(message) && message[0] === HELLO) {
            setTimeout(() => frames.forEach((frame) => onMessage?.(frame)), 1);
          }
        },
        onMessage(listener) {
          onMessage = listener;
        },
        onExit(listener) {
          onExit = listener;
        },
        terminate() {
          if (!exited) setTimeout(() => onExit?.({ code: null, signal: "SIGKILL" }), 1);
          exited = true;
          return Promise.resolve();
        },
      };
    },
  };
}

describe("a pool fed bad frames", () => {
  for (const frame of [[RESULT_ONE, 1, 0, "x", "slow"], [5, null], "ready", { 0: 4 }]) {
    it(`R8.2 a bad frame ${JSON.stringify(frame)} breaks the pool, naming the worker and the frame`, async () => {
      const pool = new ProcessPoolExecutor({ module, backend: backendSending([[READY], frame]) });
      const error = await pool.submit("double", 1).exception(5_000);
      assert.ok(error instanceof BrokenProcessPool, String(error));
      const cause = error.cause;
      assert.ok(cause instanceof WorkerProtocolError, String(cause));
      assert.equal(cause.workerId, 41);
      assert.match(cause.message, /^worker 41 \(scripted\) sent a frame the pool cannot read: /);
      assert.ok(cause.message.includes(JSON.stringify(frame)), cause.message);
      await pool.shutdown();
    });
  }
});

describe("childExecArgv", () => {
  it("R7.4 a child process gets the parent's loaders, conditions and memory flags, never -e/-p/--test/--inspect", () => {
    assert.deepEqual(
      childExecArgv([
        "--import",
        "tsx",
        "-e",
        "fork()",
        "--conditions=dev",
        "--max-old-space-size=64",
        "--test",
        "--inspect-brk",
        "-p",
        "--import",
        "--experimental-vm-modules",
        "-r",
        "./setup.cjs",
        "--input-type",
        "module",
      ]),
      [
        "--import",
        "tsx",
        "--conditions=dev",
        "--max-old-space-size=64",
        "--experimental-vm-modules",
        "-r",
        "./setup.cjs",
      ],
    );
    // Node's permission model: the child gets the same grants.
    assert.deepEqual(
      childExecArgv(["--experimental-permission", "--allow-fs-read=*", "--allow-child-process", "--permission"]),
      ["--experimental-permission", "--allow-fs-read=*", "--allow-child-process", "--permission"],
    );
    assert.deepEqual(childExecArgv(["--eval=run()", "--print", "1", "--watch", "--experimental-test-coverage"]), []);
  });

  it("R7.4 a worker thread gets the parent's flags, less -e/-p/--input-type and the code that follows them", () => {
    assert.deepEqual(
      threadExecArgv(["--import", "tsx", "--input-type", "module", "-e", "code()", "--max-old-space-size=64"]),
      ["--import", "tsx", "--max-old-space-size=64"],
    );
    assert.deepEqual(threadExecArgv(["--input-type=module", "--eval=x", "-p", "1+1", "--expose-gc"]), ["--expose-gc"]);
  });
});

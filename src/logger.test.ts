// Unit tests of setLogger() and the default logger through which done-callback errors are reported (R3.3).

import "./_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Future, type Logger, setLogger } from "../mod.ts";
import { log } from "./logger.ts";

// Makes a future whose single done-callback throws `error`, then finishes it; returns the future.
function failCallback(error: unknown): Future<number> {
  const f = new Future<number>();
  f.addDoneCallback(() => {
    throw error;
  });
  f.setResult(1);
  return f;
}

// Replaces console.error for the duration of `body`, restoring it afterwards whatever happens.
function withConsoleError(replacement: (...args: unknown[]) => void, body: () => void): void {
  const original = console.error;
  console.error = replacement;
  try {
    body();
  } finally {
    console.error = original;
  }
}

describe("setLogger() (R3.3)", () => {
  it("R3.3 setLogger() returns the logger that was in place before", () => {
    const a: Logger = () => {};
    const b: Logger = () => {};
    const original = setLogger(a);
    try {
      assert.equal(typeof original, "function");
      assert.equal(setLogger(b), a);
      assert.equal(setLogger(a), b);
    } finally {
      assert.equal(setLogger(original), a);
    }
  });

  it("R3.3 a logger set with setLogger() receives (message, error) for a throwing done-callback", () => {
    const calls: unknown[][] = [];
    const previous = setLogger((...args: unknown[]) => {
      calls.push(args);
    });
    try {
      const boom = new Error("boom");
      const f = failCallback(boom);
      assert.equal(calls.length, 1);
      assert.equal(calls[0].length, 2);
      assert.equal(calls[0][0], `exception calling callback for ${String(f)}`);
      assert.equal(calls[0][1], boom);
    } finally {
      setLogger(previous);
    }
  });

  it("R3.3 setLogger(undefined) restores the default logger and returns the replaced one", () => {
    const mine: Logger = () => {};
    const original = setLogger(undefined);
    try {
      const defaultLogger = setLogger(mine);
      assert.equal(setLogger(undefined), mine);
      // The logger now in place is the default one again: the very function installed at first.
      assert.equal(setLogger(mine), defaultLogger);
      setLogger(undefined);
      const seen: unknown[][] = [];
      withConsoleError((...args) => seen.push(args), () => {
        failCallback(new Error("to the default"));
      });
      assert.equal(seen.length, 1);
    } finally {
      setLogger(original);
    }
  });

  it("R3.3 the default logger calls console.error(message, error), looking console.error up when it logs", () => {
    // Install the default first, then replace console.error: the replacement must be the one called.
    const previous = setLogger(undefined);
    try {
      const seen: unknown[][] = [];
      const boom = new TypeError("cb failed");
      let f: Future<number> | undefined;
      withConsoleError((...args) => seen.push(args), () => {
        f = failCallback(boom);
      });
      assert.equal(seen.length, 1);
      assert.equal(seen[0].length, 2);
      assert.match(
        String(seen[0][0]),
        /^exception calling callback for <Future at #\d+ state=finished returned number>$/,
      );
      assert.equal(seen[0][0], `exception calling callback for ${String(f)}`);
      assert.equal(seen[0][1], boom);

      // A second replacement, made later, is honoured as well.
      const second: unknown[][] = [];
      withConsoleError((...args) => second.push(args), () => {
        failCallback(undefined);
      });
      assert.equal(second.length, 1);
      assert.equal(second[0][1], undefined);
      assert.equal(seen.length, 1);
    } finally {
      setLogger(previous);
    }
  });

  it("R3.3 a logger that throws is ignored: the future keeps its outcome and later callbacks run", async () => {
    let loggerCalls = 0;
    const previous = setLogger(() => {
      loggerCalls++;
      throw new Error("logger is broken");
    });
    try {
      const f = new Future<number>();
      const order: string[] = [];
      f.addDoneCallback(() => {
        order.push("first");
        throw new Error("callback is broken");
      });
      f.addDoneCallback(() => order.push("second"));
      assert.doesNotThrow(() => f.setResult(7));
      assert.deepEqual(order, ["first", "second"]);
      assert.equal(loggerCalls, 1);
      assert.equal(await f.result(), 7);

      // Also on cancel() and on a callback added to a done future.
      const g = new Future<number>();
      g.addDoneCallback(() => {
        throw new Error("x");
      });
      assert.equal(g.cancel(), true);
      assert.doesNotThrow(() =>
        g.addDoneCallback(() => {
          throw new Error("y");
        })
      );
      assert.equal(loggerCalls, 3);
      assert.doesNotThrow(() => log("direct", new Error("z")));
    } finally {
      setLogger(previous);
    }
  });

  it("R3.3 a logger that throws a non-Error value is ignored too", () => {
    const previous = setLogger(() => {
      throw undefined;
    });
    try {
      assert.doesNotThrow(() => failCallback(new Error("cb")));
    } finally {
      setLogger(previous);
    }
  });

  it("R3.3 setLogger() with a non-function throws a TypeError naming logger and keeps the current logger", () => {
    const calls: string[] = [];
    const mine: Logger = (message) => {
      calls.push(message);
    };
    const previous = setLogger(mine);
    try {
      for (const bad of [null, 42, "console.error", {}, [], true, Symbol("logger"), 1n, Object.create(null)]) {
        assert.throws(
          () => setLogger(bad as never),
          (error: unknown) => error instanceof TypeError && /\blogger\b/.test(error.message),
        );
      }
      failCallback(new Error("still mine"));
      assert.equal(calls.length, 1);
      assert.equal(setLogger(mine), mine);
    } finally {
      setLogger(previous);
    }
  });

  it("R3.3 the logger is looked up when a callback fails, not when the future or callback was made", () => {
    const f = new Future<number>();
    f.addDoneCallback(() => {
      throw new Error("late");
    });
    const calls: string[] = [];
    const previous = setLogger((message) => {
      calls.push(message);
    });
    try {
      f.setResult(1);
      assert.equal(calls.length, 1);
    } finally {
      setLogger(previous);
    }
  });
});

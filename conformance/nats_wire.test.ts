// The NATS backend's pure parts: payload pieces, buffers made JSON, module prefixes, request failures.

import "../src/_test_guard.ts";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Buffers, decode, encode } from "../src/protocol.ts";
import { isAllowed } from "../src/nats/agent.ts";
import { modulePrefix } from "../src/nats/agent_main.ts";
import {
  alonePayload,
  Assembler,
  checkPoolName,
  requestFailure,
  textPayloads,
  toPayloads,
  withoutBuffers,
} from "../src/nats/wire.ts";
import { repoRoot, runScript } from "./_scripts.ts";

describe("NATS wire format", () => {
  it("a message within the limit is one payload; a longer one travels in pieces and joins back", () => {
    const small = { kill: true };
    assert.equal(toPayloads(small, 100).length, 1);
    const big = [5, [1, 2, 3], ["é".repeat(500), "x".repeat(1000)]];
    const pieces = toPayloads(big, 64);
    assert.ok(pieces.length > 20);
    assert.ok(pieces.every((p) => p.length <= 64));
    const assembler = new Assembler();
    const out = pieces.map((p) => assembler.push(p));
    assert.deepEqual(out.slice(0, -1), new Array(pieces.length - 1).fill(undefined));
    assert.deepEqual(out.at(-1), big);
    // The assembler is ready for the next message.
    assert.deepEqual(assembler.push(toPayloads(small, 100)[0]), small);
    // A direct worker's NATS thread joins pieces without parsing them; its main thread parses the text.
    const texts = pieces.map((p) => assembler.pushText(p));
    assert.equal(texts.at(-1), JSON.stringify(big));
    assert.deepEqual(textPayloads(JSON.stringify(big), 64), pieces);
  });

  it("an agent's report after a cut-off message is a message of its own; the cut pieces are dropped", () => {
    const assembler = new Assembler();
    const pieces = toPayloads(["x".repeat(500)], 64);
    for (const piece of pieces.slice(0, 3)) assert.equal(assembler.push(piece), undefined);
    const report = { exit: { code: 0, signal: null, pid: 7 } };
    assert.deepEqual(assembler.push(alonePayload(report)), report);
    // Nothing of the cut message is left to join the next one.
    assert.deepEqual(assembler.push(toPayloads([1], 64)[0]), [1]);
  });

  it("text that is not JSON throws a SyntaxError", () => {
    assert.throws(() => new Assembler().push(new TextEncoder().encode("[1,")), SyntaxError);
  });

  it("buffers in a frame become base64 text the decoder reads the same", () => {
    const value = { bytes: new Uint8Array([0, 1, 2, 255]), floats: new Float64Array([0.5, -1]) };
    const buffers = new Buffers(false);
    const encoded = encode(value, buffers);
    const frame = JSON.parse(JSON.stringify(withoutBuffers([6, 1, 1, encoded, 0])));
    assert.deepEqual(decode(frame[3]), value);
  });

  it("modules are allowed by prefix, after .. is resolved", () => {
    const prefixes = [modulePrefix("/srv/tasks")];
    assert.equal(prefixes[0], "file:///srv/tasks/");
    assert.ok(isAllowed("file:///srv/tasks/a.ts", prefixes));
    assert.ok(!isAllowed("file:///srv/tasks/../secret.ts", prefixes));
    assert.ok(!isAllowed("file:///srv/tasks-other/a.ts", prefixes));
    assert.ok(!isAllowed("not a url", prefixes));
    assert.ok(!isAllowed("file:///srv/tasks/a.ts", []));
    assert.equal(modulePrefix("https://example.com/tasks/"), "https://example.com/tasks/");
  });

  it("pool names are one subject token", () => {
    assert.equal(checkPoolName("gpu_1-a"), "gpu_1-a");
    for (const bad of ["", "a.b", "a*", "a >", 5]) assert.throws(() => checkPoolName(bad), TypeError);
  });

  it("request failures are told apart through their cause", () => {
    const noResponders = Object.assign(new Error("503"), { name: "NoResponders" });
    assert.equal(requestFailure(new Error("x", { cause: noResponders })), "no-responders");
    assert.equal(requestFailure(Object.assign(new Error("t"), { name: "TimeoutError" })), "timeout");
    assert.equal(requestFailure(new Error("other")), "other");
  });

  it("the agent's command line refuses flags that contradict or are missing, with exit code 2, saying which", {
    timeout: 60_000,
  }, async () => {
    const cases: [string[], RegExp][] = [
      [["--direct", "--relay"], /--direct and --relay exclude each other/],
      [["--workers", "0"], /--workers must be a positive integer, got 0/],
      [["--backend", "cluster"], /--backend must be auto, process or worker, got cluster/],
    ];
    for (const [flags, says] of cases) {
      const finished = await runScript(`${repoRoot}agent.ts`, ["--servers", "nats://127.0.0.1:1", ...flags], 30_000);
      assert.equal(finished.code, 2, `${flags.join(" ")}: code ${finished.code}\n${finished.stderr}`);
      assert.match(finished.stderr, says);
      assert.match(finished.stderr, /usage: agent\.ts/);
    }
    const without = await runScript(`${repoRoot}agent.ts`, ["--pool", "p"], 30_000);
    assert.equal(without.code, 2);
    assert.match(without.stderr, /--servers is required/);
  });
});

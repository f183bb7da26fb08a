// The raw baseline of the values benchmark, child side, in plain JavaScript so that a thread and a forked child
// run it alike on every runtime: each message `[op, value]` gets `consume(value)` or the value back, the same
// work as bench/values_tasks.ts (duplicated here: this file must not need a TypeScript loader).

import process from "node:process";
import { parentPort, workerData } from "node:worker_threads";

function consume(value) {
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) {
    let total = 0;
    for (const row of value) total += row.x + row.y;
    return total;
  }
  let total = 0;
  for (let i = 0; i < value.length; i += 64) total += value[i];
  return total;
}

// On a JSON channel a typed array travels as base64 text with its type: the fastest way JSON has.
function fromWire(value) {
  if (value !== null && typeof value === "object" && "base64" in value) {
    const bytes = Buffer.from(value.base64, "base64");
    return new globalThis[value.type](
      bytes.buffer,
      bytes.byteOffset,
      bytes.byteLength / globalThis[value.type].BYTES_PER_ELEMENT,
    );
  }
  return value;
}

function toWire(value, json) {
  if (!json || !ArrayBuffer.isView(value)) return value;
  return {
    type: value.constructor.name,
    base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"),
  };
}

function answer([op, wire, json]) {
  const value = fromWire(wire);
  return op === "echo" ? toWire(value, json) : consume(value);
}

// A thread answers on the MessageChannel port it was given, as procpool's threads do (on Deno a Worker's own
// postMessage clones a typed array ~60× slower than a port does).
const port = workerData?.port;
if (port !== undefined) port.on("message", (message) => port.postMessage(answer(message)));
else if (parentPort !== null) parentPort.on("message", (message) => parentPort.postMessage(answer(message)));
else {
  process.on("message", (message) => process.send(answer(message)));
  process.on("disconnect", () => process.exit(0));
}

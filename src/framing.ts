// How the pool's messages travel on a transport (JSON text or values, marked or not), and the one check every
// message from a worker passes before the pool believes it.

import {
  type Buffers,
  EXITING,
  FATAL,
  type FromWorker,
  HELLO,
  RAISED,
  READY,
  RESULT_ONE,
  RESULTS,
  RETURNED,
  RUN,
  RUN_ONE,
  STOP,
  type ToWorker,
} from "./protocol.ts";

/** How one kind of transport carries the pool's frames. */
export interface FrameFormat {
  /** Frames travel as their JSON text rather than as values the transport clones. */
  readonly text: boolean;
  /**
   * The channel is shared with task code (a child process's IPC channel, where `process.send` writes too), so
   * the pool's frames carry a mark and everything unmarked is the task code's, not the pool's.
   */
  readonly shared: boolean;
}

/**
 * The format of each runtime's transports, chosen by measurement (one round trip of a 1,000-number chunk):
 * - threads talk over a private `MessageChannel`, so they need no mark; Node's and Deno's structured clone is
 *   slower than JSON text for these messages (1.7× and 2.8×), Bun clones flat number arrays ~10× faster than it
 *   writes them as text;
 * - child processes share their IPC channel with task code. It uses V8's serialization, which carries buffers
 *   as bytes (an 8 MB array ~10× faster than as base64 in JSON IPC), and a frame as one string, which costs about
 *   what JSON IPC costs for the same frame as a tree.
 * Whatever the format, a frame whose encoding asks for it travels as a value (see {@linkcode packFrame}).
 */
export function frameFormat(runtime: "node" | "deno" | "bun", kind: "process" | "worker"): FrameFormat {
  if (kind === "worker") return { text: runtime !== "bun", shared: false };
  return { text: true, shared: true };
}

// The mark of a frame on a shared channel: a key no program sends by accident. As text it prefixes the JSON; as a
// value the frame is the second element of a pair that starts with it.
const MARK = "\u0000procpool";

/** What {@linkcode unpackFrame} returns for a message that task code sent, not the pool. */
export const FOREIGN: unique symbol = Symbol("foreign message");

/**
 * Turns a frame into what the transport sends. A frame that must travel as a value (`asValue`: it holds buffers
 * as themselves, or a long string) goes as one whatever the format: JSON text has no room for buffers.
 */
export function packFrame(frame: ToWorker | FromWorker, format: FrameFormat, asValue = false): unknown {
  if (format.text && !asValue) return format.shared ? MARK + JSON.stringify(frame) : JSON.stringify(frame);
  return format.shared ? [MARK, frame] : frame;
}

/**
 * Turns what the transport delivered back into an unchecked frame, or {@linkcode FOREIGN} when it is not the
 * pool's. Never throws: text that is not JSON comes back as a {@linkcode FrameError}, which the checks reject.
 */
export function unpackFrame(data: unknown, format: FrameFormat): unknown {
  if (format.text) {
    // A frame that is not text is one that travels as a value (see packFrame).
    if (typeof data !== "string") return format.shared ? markedValue(data) : data;
    if (format.shared && !data.startsWith(MARK)) return FOREIGN;
    try {
      return JSON.parse(format.shared ? data.slice(MARK.length) : data);
    } catch (error) {
      return new FrameError(`not JSON (${(error as Error).message})`, data);
    }
  }
  return format.shared ? markedValue(data) : data;
}

/** A channel that takes a transfer list, as a `MessagePort` does. */
export interface PostChannel {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
}

/** Posts a frame on a private channel: as JSON text or a value per `format`, moving what `buffers` lists. */
export function postFrame(
  channel: PostChannel,
  frame: ToWorker | FromWorker,
  format: FrameFormat,
  buffers: Buffers | undefined,
): void {
  if (buffers?.asValue) channel.postMessage(packFrame(frame, format, true), buffers.moved);
  else channel.postMessage(packFrame(frame, format), NO_TRANSFER);
}

const NO_TRANSFER: ArrayBuffer[] = [];

function markedValue(data: unknown): unknown {
  return Array.isArray(data) && data.length === 2 && data[0] === MARK ? data[1] : FOREIGN;
}

/** A frame that is not one of the protocol's: says what is wrong with it, and shows its start. */
export class FrameError extends TypeError {
  static {
    this.prototype.name = "FrameError";
  }
  /** The start of the frame's JSON text (or a description of a value JSON cannot show). */
  readonly frame: string;

  constructor(problem: string, data: unknown) {
    const frame = preview(data);
    super(`${problem}: ${frame}`);
    this.frame = frame;
  }
}

/**
 * Checks a frame from a worker and returns it typed; throws a {@linkcode FrameError} that says what is wrong.
 * Encoded values inside (results, errors) are left to the decoder, which fails only the future they belong to.
 */
export function checkFromWorker(data: unknown): FromWorker {
  if (data instanceof FrameError) throw data;
  if (!Array.isArray(data) || data.length === 0) throw new FrameError("not a tagged array", data);
  switch (data[0]) {
    case READY:
      if (data.length === 1) return data as unknown as FromWorker;
      break;
    case RESULT_ONE:
      if (data.length === 5 && isId(data[1]) && isStatus(data[2]) && isDuration(data[4])) {
        return data as unknown as FromWorker;
      }
      break;
    case RESULTS: {
      if (data.length !== 5 || !isDuration(data[4])) break;
      const [, ids, statuses, values] = data;
      if (!Array.isArray(ids) || !Array.isArray(statuses) || !Array.isArray(values)) break;
      if (ids.length !== statuses.length || ids.length !== values.length) break;
      if (!ids.every(isId) || !statuses.every(isStatus)) break;
      return data as unknown as FromWorker;
    }
    case FATAL:
      if (data.length === 3 && (data[1] === "import" || data[1] === "initializer")) {
        return data as unknown as FromWorker;
      }
      break;
    case EXITING:
      if (data.length === 2 && Number.isSafeInteger(data[1])) return data as unknown as FromWorker;
      break;
  }
  throw new FrameError("not a message a worker sends", data);
}

/** Checks a frame from the parent, as {@linkcode checkFromWorker} does a worker's. */
export function checkToWorker(data: unknown): ToWorker {
  if (data instanceof FrameError) throw data;
  if (!Array.isArray(data) || data.length === 0) throw new FrameError("not a tagged array", data);
  switch (data[0]) {
    case HELLO: {
      const hello = data[1] as Record<string, unknown> | null;
      if (
        data.length === 2 && typeof hello === "object" && hello !== null && typeof hello.module === "string" &&
        Array.isArray(hello.functions)
      ) return data as unknown as ToWorker;
      break;
    }
    case RUN_ONE:
      if (data.length >= 4 && isId(data[1]) && isId(data[2]) && isId(data[3])) return data as unknown as ToWorker;
      break;
    case RUN:
      if (data.length === 5 && Array.isArray(data[1]) && Array.isArray(data[3])) return data as unknown as ToWorker;
      break;
    case STOP:
      if (data.length === 1) return data as unknown as ToWorker;
      break;
  }
  throw new FrameError("not a message the parent sends", data);
}

function isId(value: unknown): boolean {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isStatus(value: unknown): boolean {
  return value === RAISED || value === RETURNED;
}

function isDuration(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function preview(data: unknown): string {
  let text: string;
  try {
    // Cut before quoting: a frame can be hundreds of megabytes. Long strings and arrays are shortened on the way.
    text = JSON.stringify(data, (_key, value: unknown) => {
      if (typeof value === "string" && value.length > 200) return value.slice(0, 200);
      if (Array.isArray(value) && value.length > 20) return value.slice(0, 20);
      return value;
    }) ?? String(data);
  } catch {
    text = Object.prototype.toString.call(data);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

// What the NATS backend's two sides say to each other: the subjects, the spawn request and its answer, and how a
// frame or a control message travels as bytes (JSON text, split into pieces when it exceeds the server's limit).

/** The subject a pool's agents share, in one queue group, for spawn requests. */
export function spawnSubject(pool: string): string {
  return `procpool.${pool}.spawn`;
}

/** The queue group of a pool's agents on its spawn subject: one agent answers each request. */
export const AGENT_QUEUE = "agents";

/** Frames from the parent to one remote worker. */
export function inSubject(pool: string, worker: string): string {
  return `procpool.${pool}.w.${worker}.in`;
}

/**
 * The parent's control messages for one remote worker (its `kill`), which the worker's agent reads: a worker
 * busy in a synchronous task could not, and in direct mode the agent does not read the worker's `in` subject.
 */
export function ctlSubject(pool: string, worker: string): string {
  return `procpool.${pool}.w.${worker}.ctl`;
}

/** Frames from one remote worker to its parent, then its exit report. */
export function outSubject(pool: string, worker: string): string {
  return `procpool.${pool}.w.${worker}.out`;
}

/**
 * How a direct worker (one that talks to NATS itself, see worker_port.ts) reaches its agent over their local IPC
 * channel: the first element of each such message. Then `"ready"` (subscribed to its `in` subject, and the server
 * knows it), `"failed"` and a reason (it could not connect), or `"lost"` and a reason (its connection closed).
 */
export const PORT_SIGNAL = "procpool-nats-port";

/** The environment variables that start a direct worker: the port module's URL, and its settings as JSON. */
export const PORT_MODULE_ENV = "PROCPOOL_PORT_MODULE";
export const PORT_SETTINGS_ENV = "PROCPOOL_NATS_PORT";

/**
 * The slots of the counters a direct worker's main thread shares with its NATS thread: the number of the last
 * flush the server confirmed, and a count the NATS thread raises whenever it gets on with sending.
 */
export const CONFIRMED = 0;
export const PROGRESS = 1;

/** What a direct worker is told, in {@linkcode PORT_SETTINGS_ENV}: how to connect, and its subjects' names. */
export interface PortSettings {
  readonly servers: readonly string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /** A credentials file's path, which the worker reads itself. */
  readonly credsFile?: string;
  /** The JSON-compatible rest of the agent's connect options (TLS file paths, …). */
  readonly connectOptions?: Record<string, unknown>;
  readonly pool: string;
  readonly worker: string;
  /** The connection's name, as the server shows it. */
  readonly name: string;
}

/** An agent's heartbeat, which the parents of its workers watch. */
export function agentBeatSubject(pool: string, agent: string): string {
  return `procpool.${pool}.a.${agent}.hb`;
}

/** A parent's heartbeat, which the agents hosting its workers watch. */
export function parentBeatSubject(pool: string, parent: string): string {
  return `procpool.${pool}.p.${parent}.hb`;
}

/**
 * A parent's ping, which it answers while its connection lives: an agent that stopped hearing a parent asks it, and
 * "no responders" (the server dropped the parent's subscriptions: it died or disconnected) is the parent's end. A
 * parent that is only busy or frozen still has its subscriptions, and its workers are left alone.
 */
export function parentPingSubject(pool: string, parent: string): string {
  return `procpool.${pool}.p.${parent}.ping`;
}

/** A pool name must be one subject token: letters, digits, `-` and `_`. */
export function checkPoolName(pool: unknown): string {
  if (typeof pool !== "string" || !/^[A-Za-z0-9_-]+$/.test(pool)) {
    throw new TypeError(`Cannot use NATS pool ${JSON.stringify(pool)}: a pool name is letters, digits, "-" and "_"`);
  }
  return pool;
}

/** A parent's request for one worker. */
export interface SpawnRequest {
  /** The parent's id: its heartbeats are on {@linkcode parentBeatSubject}. */
  readonly parent: string;
  /** The worker's id, chosen by the parent, unique per attempt: names its subjects. */
  readonly worker: string;
  /** The task module's URL. */
  readonly module: string;
  /** How often the parent beats, and after how long a silence the agent may take it for dead. */
  readonly beatMs: number;
  readonly deadAfterMs: number;
}

/** An agent's answer: the worker runs, or the agent is full, or it refuses (the error says why). */
export type SpawnReply =
  | { readonly ok: true; readonly agent: string; readonly host: string; readonly pid: number; readonly beatMs: number }
  | { readonly ok: false; readonly full?: boolean; readonly error?: string };

/** The parent's control message on a worker's `ctl` subject: kill it now. */
export interface KillControl {
  readonly kill: true;
}

/** The agent's last message on a worker's `out` subject: how the worker ended. */
export interface ExitReport {
  readonly exit: {
    readonly code: number | null;
    readonly signal: string | null;
    /** What the worker died of, when the agent knows (text: errors do not cross as objects here). */
    readonly error?: string;
    /** The worker's pid (or thread id) on the agent's host. */
    readonly pid: number;
  };
}

// A piece of a message that continues in the next one starts with this byte; JSON text never holds it raw.
const MORE = 0x01;
// A message that an agent sends on a worker's subject (its exit report) starts with this one: it never continues a
// worker's pieces, and pieces left waiting for their end are dropped (the exit cut their message off).
const ALONE = 0x02;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Turns a frame or control message into one or more payloads, each at most `limit` bytes. */
export function toPayloads(message: unknown, limit: number): Uint8Array[] {
  return textPayloads(JSON.stringify(message), limit);
}

/** Turns a message's JSON text into one or more payloads, each at most `limit` bytes. */
export function textPayloads(text: string, limit: number): Uint8Array[] {
  const bytes = encoder.encode(text);
  if (bytes.length <= limit) return [bytes];
  const pieces: Uint8Array[] = [];
  const step = Math.max(1, limit - 1);
  let at = 0;
  for (; at + step < bytes.length; at += step) {
    const piece = new Uint8Array(step + 1);
    piece[0] = MORE;
    piece.set(bytes.subarray(at, at + step), 1);
    pieces.push(piece);
  }
  pieces.push(bytes.subarray(at));
  return pieces;
}

/** Turns an agent's message on a worker's subject (an exit report) into its one payload; see {@linkcode Assembler}. */
export function alonePayload(message: unknown): Uint8Array {
  const text = encoder.encode(JSON.stringify(message));
  const payload = new Uint8Array(text.length + 1);
  payload[0] = ALONE;
  payload.set(text, 1);
  return payload;
}

/**
 * Joins the payloads of one subject back into messages, in order (NATS keeps the order of one publisher on one
 * subject). `push` returns the message a payload completes, or `undefined` when more pieces are to come, and
 * throws a SyntaxError for text that is not JSON; `pushText` returns the message's text instead, unparsed. A payload
 * from {@linkcode alonePayload} is a message of its own: it drops the pieces that wait for their end.
 */
export class Assembler {
  #pieces: Uint8Array[] = [];

  push(payload: Uint8Array): unknown {
    const text = this.pushText(payload);
    return text === undefined ? undefined : JSON.parse(text);
  }

  pushText(payload: Uint8Array): string | undefined {
    if (payload.length > 0 && payload[0] === ALONE) {
      this.#pieces = [];
      return decoder.decode(payload.subarray(1));
    }
    if (payload.length > 0 && payload[0] === MORE) {
      this.#pieces.push(payload.subarray(1));
      return undefined;
    }
    let bytes = payload;
    if (this.#pieces.length > 0) {
      this.#pieces.push(payload);
      let length = 0;
      for (const piece of this.#pieces) length += piece.length;
      bytes = new Uint8Array(length);
      let at = 0;
      for (const piece of this.#pieces) {
        bytes.set(piece, at);
        at += piece.length;
      }
      this.#pieces = [];
    }
    return decoder.decode(bytes);
  }
}

interface NodeBufferClass {
  from(data: ArrayBufferLike, offset: number, length: number): { toString(encoding: "base64"): string };
}

function base64(buffer: ArrayBufferLike): string {
  const NodeBuffer = (globalThis as { Buffer?: NodeBufferClass }).Buffer;
  if (NodeBuffer !== undefined) return NodeBuffer.from(buffer, 0, buffer.byteLength).toString("base64");
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/**
 * Makes a frame from a local worker JSON-compatible, in place: the local transports carry buffers as themselves
 * (the payload of the codec's binary tags), JSON carries them as base64 text, which the parent's decoder reads
 * the same. Returns the frame.
 */
export function withoutBuffers(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof ArrayBuffer || isShared(value)) return base64(value as ArrayBufferLike);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item !== null && typeof item === "object") value[i] = withoutBuffers(item);
    }
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (item !== null && typeof item === "object") record[key] = withoutBuffers(item);
  }
  return value;
}

function isShared(value: unknown): boolean {
  return typeof SharedArrayBuffer === "function" && value instanceof SharedArrayBuffer;
}

/** What a failed request ran into: nobody subscribed, nobody answered in time, or something else. */
export function requestFailure(error: unknown): "no-responders" | "timeout" | "other" {
  for (let e = error; e instanceof Error; e = e.cause) {
    // The client names it "NoResponders" (3.3.1); its class is NoRespondersError.
    if (e.name === "NoResponders" || e.name === "NoRespondersError") return "no-responders";
    if (e.name === "TimeoutError") return "timeout";
  }
  return "other";
}

/** Milliseconds from an arbitrary origin, monotonic. */
export function now(): number {
  return performance.now();
}

/** Lets a timer run without keeping the event loop alive (Node, Bun and Deno 2 timers have `unref`). */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

// The messages both sides of a worker share, and the value codec that carries results and errors faithfully.
//
// Every transport carries `Encoded` values only: JSON-compatible trees, which JSON IPC, structured clone and
// Bun's and Deno's channels all carry alike, so that switching backends never changes a result (R10.1), and so
// that a backend may send any message as its JSON text (they do, but for Bun's threads: it is faster there). The
// exception is big data bound for a transport that clones messages (threads, and child processes with V8's
// serialization): there buffers travel as themselves, and the encoding's `Buffers` tells the backend to send that
// message as a value (long strings too: cloning one beats escaping it), moving what it may.
// Values JSON cannot express become objects tagged under the key "\u0000"; a user object that itself has that
// key is escaped. Every object gets an index in visiting order, so shared and cyclic references survive.

import { isDetached, isMarked, takeMark } from "./transfer.ts";

/**
 * A value as it travels between parent and worker. Buffers appear only as the payload of a binary tag, and only
 * when the encoding was given a {@linkcode Buffers}.
 */
export type Encoded =
  | null
  | boolean
  | number
  | string
  | ArrayBuffer
  | SharedArrayBuffer
  | Encoded[]
  | { [key: string]: Encoded };

/** What a worker needs to start: the task module, the initializer and the task budget. */
export interface Hello {
  /** The task module's absolute URL. */
  readonly module: string;
  /** The names of the module's function exports: a task names its function by its index in this table. */
  readonly functions: readonly string[];
  /** The initializer's export name, if any. */
  readonly initializer?: string;
  /** The initializer's arguments, encoded as one array. */
  readonly initArgs: Encoded;
  /** Exit after this many tasks (`maxTasksPerChild`). */
  readonly maxTasks?: number;
}

/** How a task's arguments are laid out: one call, or a chunk of calls (a starmap chunk or a map chunk). */
export const CALL = 0;
export const STAR_CHUNK = 1;
export const MAP_CHUNK = 2;
export type Mode = typeof CALL | typeof STAR_CHUNK | typeof MAP_CHUNK;

/**
 * A task's status: it returned or raised. A chunk that returned carries the encoded list of its results; one
 * that raised carries `[encoded results before the failure, encoded error]` (its later items never ran).
 */
export const RAISED = 0;
export const RETURNED = 1;
export type Status = typeof RAISED | typeof RETURNED;

// Every message is an array whose first element is its tag: a small array clones markedly faster than an object
// with named fields (measured: about 0.7 µs less per message on Node and Bun), and two messages make a round trip.
// The parent's tags:
export const HELLO = 0;
export const RUN = 1;
export const STOP = 2;
export const RUN_ONE = 3;
// A worker's tags:
export const READY = 4;
export const RESULTS = 5;
export const RESULT_ONE = 6;
export const FATAL = 7;
export const EXITING = 8;

/**
 * A batch of tasks, column by column (one array per field is cheaper to clone than an object per task): ids,
 * functions (indices into the hello's table; one when all are the same), encoded argument lists, and modes (one
 * when all are the same).
 */
export type TaskBatch = readonly [
  tag: typeof RUN,
  ids: number[],
  fns: number | number[],
  args: Encoded[],
  modes: Mode | Mode[],
];

/**
 * One task, flat, its arguments spread at the end: what a lone task in flight travels as. Fewer arrays to clone
 * than a batch, and a task whose arguments are numbers makes an all-number array, which Bun clones ~10× faster.
 */
export type OneTask = readonly [tag: typeof RUN_ONE, id: number, fn: number, mode: Mode, ...args: Encoded[]];

/** A chunk's outcome in the parent: the results before the failure, and the failure if one item raised. */
export interface ChunkOutcome {
  readonly values: unknown[];
  readonly failed: boolean;
  readonly error?: unknown;
}

/**
 * A batch of outcomes, column by column; each value is encoded on its own. `busyMs` is how long the worker spent
 * running these tasks, for the dispatch window.
 */
export type ResultBatch = readonly [
  tag: typeof RESULTS,
  ids: number[],
  statuses: Status[],
  values: Encoded[],
  busyMs: number,
];

/** The outcome of one task, flat. */
export type OneResult = readonly [tag: typeof RESULT_ONE, id: number, status: Status, value: Encoded, busyMs: number];

/** Messages from the parent to a worker. The first one is always the hello. */
export type ToWorker =
  | readonly [tag: typeof HELLO, hello: Hello]
  | TaskBatch
  | OneTask
  | readonly [tag: typeof STOP];

/** Messages from a worker to the parent. */
export type FromWorker =
  | readonly [tag: typeof READY]
  | ResultBatch
  | OneResult
  | readonly [tag: typeof FATAL, phase: "import" | "initializer", error: Encoded]
  | readonly [tag: typeof EXITING, code: number];

type EncodedObject = { [key: string]: Encoded };

const TAG = "\u0000";
// A missing element of a sparse array: structured clone keeps holes, and so does the codec.
const HOLE: Encoded = { [TAG]: "h" };

function isHole(e: Encoded): boolean {
  return e !== null && typeof e === "object" && !Array.isArray(e) && (e as EncodedObject)[TAG] === "h";
}

/** Looks an error class up by constructor name when an error is rebuilt. */
export type ClassResolver = (name: string) => (new (...args: never[]) => Error) | undefined;

// Tables looked up by names that arrive in messages have no prototype: "constructor" or "__proto__" finds nothing.
const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView> = {
  __proto__: null,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView: DataView as unknown as new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView,
} as unknown as Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView>;
// Newer runtimes (Deno, Bun) have Float16Array, which structured clone carries; Node 20 does not.
const float16 = (globalThis as { Float16Array?: (typeof TYPED_ARRAYS)[string] }).Float16Array;
if (float16 !== undefined) TYPED_ARRAYS.Float16Array = float16;

const BUILTIN_ERRORS: Record<string, new (...args: never[]) => Error> = {
  __proto__: null,
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError,
} as unknown as Record<string, new (...args: never[]) => Error>;

/**
 * How an encoding for a transport that clones messages (the built-in backends: threads, and child processes
 * with V8's serialization) carries big data, and what it found. Each `ArrayBuffer` travels as itself: a private
 * copy taken now, or, where the transport moves buffers (threads) and {@linkcode transfer} marked it, the buffer
 * itself, detached here. A `SharedArrayBuffer` travels as itself where threads share it, else as a copy of its
 * bytes. Without a `Buffers`, binary data becomes base64 text, which every transport carries.
 *
 * @example The send() of a custom backend whose transport moves buffers (`carriesBuffers`, `movesBuffers`)
 * ```ts
 * import type { Buffers } from "@procpool/procpool";
 *
 * function send(port: MessagePort, message: unknown, buffers?: Buffers): void {
 *   port.postMessage(message, buffers?.moved ?? []);
 * }
 * ```
 */
export class Buffers {
  /**
   * Whether the message must travel as a value, not as JSON text: it holds a buffer as itself, or a string long
   * enough that cloning it beats JSON's escaping.
   */
  asValue = false;
  /** The buffers the transport may move rather than copy (a transfer list): none is reachable by the caller. */
  readonly moved: ArrayBuffer[] = [];
  /** Whether the transport shares memory (threads): a `SharedArrayBuffer` travels as itself, not copied. */
  readonly share: boolean;
  /**
   * Whether buffers are moved: marked ones detached here, private copies listed in `moved`. Only where memory is
   * shared, and not for the hello, which goes to every worker.
   */
  readonly move: boolean;

  /** Collects for a transport that shares memory or not, and a message that may move buffers or not. */
  constructor(share: boolean, move: boolean = share) {
    this.share = share;
    this.move = share && move;
  }
}

// From this many UTF-16 units on, a string makes its message travel as a value (measured on Node's and Deno's
// threads: a 64 KiB string costs about as much as JSON text as cloned).
const LONG_STRING = 1 << 16;

function hasLongString(list: unknown[]): boolean {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item === "string" && item.length >= LONG_STRING) return true;
  }
  return false;
}

/**
 * Encodes a value for the transport. Throws a `TypeError` naming the problem for what structured clone cannot
 * carry either: functions, symbols, weak collections, promises.
 */
export function encode(value: unknown, buffers?: Buffers): Encoded {
  // Fast paths for what tiny tasks send: a JSON-safe primitive, or a flat list of them (an argument list).
  if (isPlainPrimitive(value)) {
    if (buffers !== undefined && typeof value === "string" && value.length >= LONG_STRING) buffers.asValue = true;
    return value;
  }
  if (Array.isArray(value) && isFlat(value)) {
    if (buffers !== undefined && hasLongString(value)) buffers.asValue = true;
    return value.slice();
  }
  return encodeTree(value, buffers);
}

/** Like {@linkcode encode}, for an array nobody else holds: a flat list of primitives is sent as it is. */
export function encodeOwned(list: unknown[], buffers?: Buffers): Encoded {
  if (!isFlat(list)) return encodeTree(list, buffers);
  if (buffers !== undefined && hasLongString(list)) buffers.asValue = true;
  return list as Encoded;
}

// From this many values on (objects, arrays, their items and properties), plain data travels as one JSON text:
// JSON.stringify and JSON.parse, native code, copy records several times faster than the encoder's walk and
// rebuild (100,000 `{ x, y }` records: ~45 ms for both on Node, against ~190 ms), and the text is a snapshot taken
// at the call as the encoder's copy is. Smaller values are not worth the extra scan.
const PLAIN_TEXT_MIN = 4096;

function encodeTree(value: unknown, buffers: Buffers | undefined): Encoded {
  const scan = new PlainScan();
  if (scan.plain(value) && scan.count >= PLAIN_TEXT_MIN) {
    const text = JSON.stringify(value);
    if (buffers !== undefined && text.length >= LONG_STRING) buffers.asValue = true;
    return { [TAG]: "J", v: text };
  }
  return new Encoder(buffers).encode(value);
}

/**
 * Tells plain data: what JSON carries exactly, as structured clone would — objects whose prototype is
 * `Object.prototype`, arrays without holes, finite numbers other than -0, strings, booleans and null, and no
 * object reached twice (JSON would copy a shared object, and loop on a cycle). Counts what it visited.
 */
class PlainScan {
  readonly #seen = new Set<object>();
  count = 0;

  plain(v: unknown): boolean {
    this.count++;
    switch (typeof v) {
      case "string":
      case "boolean":
        return true;
      case "number":
        return Number.isFinite(v) && !Object.is(v, -0);
      case "object":
        break;
      default:
        // undefined (JSON drops it, or makes a hole null), functions, symbols, bigints.
        return false;
    }
    if (v === null) return true;
    if (this.#seen.has(v)) return false;
    this.#seen.add(v);
    if (Array.isArray(v)) {
      // A hole reads as undefined, which is not plain.
      for (let i = 0; i < v.length; i++) if (!this.plain(v[i])) return false;
      return true;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return false;
    // Own enumerable string keys are what JSON and structured clone take; for-in lists Object.prototype's
    // enumerable additions too, which JSON leaves out: checking them costs nothing but a false "not plain".
    for (const k in v) if (!this.plain((v as Record<string, unknown>)[k])) return false;
    return true;
  }
}

/** What several encodings sent in one message found together, if any of them found something. */
export function joinBuffers(list: readonly (Buffers | undefined)[]): Buffers | undefined {
  let all: Buffers | undefined;
  for (const buffers of list) {
    if (buffers === undefined) continue;
    all ??= new Buffers(buffers.share, buffers.move);
    all.asValue ||= buffers.asValue;
    for (const buffer of buffers.moved) all.moved.push(buffer);
  }
  return all;
}

/**
 * Rebuilds a value made by {@linkcode encode}; errors are rebuilt with classes found by `resolve`. Takes
 * `encoded` over: arrays and plain objects in it become parts of the value (it is the transport's copy).
 */
export function decode(encoded: Encoded, resolve: ClassResolver = () => undefined): unknown {
  if (encoded === null || typeof encoded !== "object") return encoded;
  // A flat list of primitives needs no rebuilding; the transport already gave us a fresh copy.
  if (Array.isArray(encoded) && isScalarList(encoded)) return encoded;
  return new Decoder(resolve).value(encoded);
}

// A value every transport carries unchanged. Not all numbers and strings are: JSON has no -0, NaN or Infinity,
// Deno's process channel reads integers beyond 2^53 back as BigInt, and it replaces lone surrogates.
function isPlainPrimitive(v: unknown): v is string | boolean | number | null {
  switch (typeof v) {
    case "string":
      return isWellFormed(v);
    case "boolean":
      return true;
    case "number":
      return isPlainNumber(v);
    default:
      return v === null;
  }
}

function isPlainNumber(v: number): boolean {
  return Number.isFinite(v) && !Object.is(v, -0) && (Number.isSafeInteger(v) || !Number.isInteger(v));
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isWellFormed(s: string): boolean {
  const native = (s as { isWellFormed?: () => boolean }).isWellFormed;
  return native !== undefined ? native.call(s) : !LONE_SURROGATE.test(s);
}

// Indexed, not every(): every() skips holes, which JSON would turn into null.
function isFlat(list: unknown[]): boolean {
  for (let i = 0; i < list.length; i++) if (!isPlainPrimitive(list[i])) return false;
  return true;
}

function isScalar(v: Encoded): boolean {
  return v === null || typeof v !== "object";
}

// `list.every(isScalar)`, as a loop: a chunk of a map() has thousands of items, and the loop is several times faster.
function isScalarList(list: Encoded[]): boolean {
  for (let i = 0; i < list.length; i++) if (!isScalar(list[i])) return false;
  return true;
}

class Encoder {
  readonly #seen = new Map<object, number>();
  readonly #buffers: Buffers | undefined;
  // Buffers marked by transfer(), with the tag that will carry each: used only once the whole value encoded, so
  // that a value that cannot be sent leaves them attached and marked.
  readonly #marked: [ArrayBuffer, { [TAG]: string; v: Encoded }][] = [];

  constructor(buffers: Buffers | undefined) {
    this.#buffers = buffers;
  }

  encode(v: unknown): Encoded {
    const encoded = this.value(v);
    for (const [buffer, tag] of this.#marked) {
      takeMark(buffer);
      if (this.#buffers === undefined || !this.#buffers.move) continue;
      // The caller's own buffer, as it asked, instead of a copy.
      tag.v = moveOut(buffer);
      this.#buffers.moved.push(tag.v);
    }
    return encoded;
  }

  value(v: unknown): Encoded {
    switch (typeof v) {
      case "string":
        if (v.length >= LONG_STRING && this.#buffers !== undefined) this.#buffers.asValue = true;
        // A string with lone surrogates travels as its UTF-16 code units.
        return isWellFormed(v) ? v : { [TAG]: "s", v: Array.from({ length: v.length }, (_, i) => v.charCodeAt(i)) };
      case "boolean":
        return v;
      case "number":
        return isPlainNumber(v) ? v : { [TAG]: "n", v: Object.is(v, -0) ? "-0" : String(v) };
      case "undefined":
        return { [TAG]: "u" };
      case "bigint":
        return { [TAG]: "b", v: v.toString() };
      case "function":
        throw new TypeError(`cannot send function ${v.name || "(anonymous)"}: functions cannot be cloned`);
      case "symbol":
        throw new TypeError(`cannot send ${String(v)}: symbols cannot be cloned`);
      default:
        return v === null ? null : this.#object(v as object);
    }
  }

  #object(o: object): Encoded {
    const ref = this.#seen.get(o);
    if (ref !== undefined) return { [TAG]: "r", v: ref };
    this.#seen.set(o, this.#seen.size);
    if (Array.isArray(o)) {
      const out: Encoded[] = new Array(o.length);
      for (let i = 0; i < o.length; i++) out[i] = i in o ? this.value(o[i]) : HOLE;
      return out;
    }
    // A plain object (the bulk of record data) is none of the kinds below: skip their checks.
    const proto = Object.getPrototypeOf(o);
    if (proto === Object.prototype || proto === null) return this.#plain(o as Record<string, unknown>);
    if (o instanceof Error) return this.#error(o);
    if (o instanceof Date) return { [TAG]: "D", v: this.value(o.getTime()) };
    if (o instanceof RegExp) return { [TAG]: "R", v: o.source, f: o.flags };
    if (o instanceof Map) {
      const entries: Encoded[] = [];
      for (const [k, v] of o) entries.push([this.value(k), this.value(v)]);
      return { [TAG]: "M", v: entries };
    }
    if (o instanceof Set) {
      const items: Encoded[] = [];
      for (const v of o) items.push(this.value(v));
      return { [TAG]: "S", v: items };
    }
    if (ArrayBuffer.isView(o)) {
      // The toStringTag, not the constructor: a Node Buffer travels as the Uint8Array it is.
      const type = Object.prototype.toString.call(o).slice(8, -1);
      if (!(type in TYPED_ARRAYS)) throw new TypeError(`cannot send a ${type}: unknown binary view`);
      // As structured clone does, a view travels with its whole buffer, so views of one buffer keep sharing it.
      const length = o instanceof DataView ? o.byteLength : (o as unknown as { length: number }).length;
      return { [TAG]: "V", t: type, b: this.value(o.buffer), o: o.byteOffset, l: length };
    }
    if (o instanceof ArrayBuffer) return this.#arrayBuffer(o);
    if (isShared(o)) {
      const buffers = this.#buffers;
      if (buffers === undefined) return { [TAG]: "A", v: toBase64(new Uint8Array(o)) };
      buffers.asValue = true;
      if (buffers.share) return { [TAG]: "A", v: o };
      const copy = new ArrayBuffer(o.byteLength);
      new Uint8Array(copy).set(new Uint8Array(o));
      return { [TAG]: "A", v: copy };
    }
    if (
      o instanceof Number || o instanceof String || o instanceof Boolean ||
      (typeof BigInt === "function" && Object.prototype.toString.call(o) === "[object BigInt]")
    ) {
      return { [TAG]: "P", v: this.value(o.valueOf()) };
    }
    if (o instanceof Promise || o instanceof WeakMap || o instanceof WeakSet || isWeakRef(o)) {
      throw new TypeError(`cannot send a ${o.constructor.name}: it cannot be cloned`);
    }
    return this.#plain(o as Record<string, unknown>);
  }

  // A buffer as it is now (later changes by the caller do not travel), as base64 text, or as a copy nobody else
  // holds, which the transport may move. A marked buffer, where buffers move, is moved itself by encode().
  #arrayBuffer(o: ArrayBuffer): Encoded {
    if (isDetached(o)) throw new TypeError("an ArrayBuffer here is detached: transfer() moved it to a worker before");
    const buffers = this.#buffers;
    const tag = { [TAG]: "B", v: null as Encoded };
    const marked = isMarked(o);
    if (marked) this.#marked.push([o, tag]);
    if (buffers === undefined) tag.v = toBase64(new Uint8Array(o));
    else {
      buffers.asValue = true;
      if (!marked || !buffers.move) {
        tag.v = o.slice(0);
        if (buffers.move) buffers.moved.push(tag.v);
      }
    }
    return tag;
  }

  // A copy by spreading (the engines' fast path for own enumerable properties), whose values are then encoded in
  // place where they need it: record data is mostly numbers and strings, which stay as they are. The spread also
  // copies symbol-keyed properties, which neither JSON nor structured clone carries: they never travel.
  #plain(o: Record<string, unknown>): Encoded {
    if (Object.hasOwn(o, TAG)) {
      return { [TAG]: "O", v: Object.keys(o).map((k) => [k, this.value(o[k])]) };
    }
    const out: Record<string, unknown> = { ...o };
    for (const k in out) {
      const v = out[k];
      if (v === null || typeof v === "boolean" || (typeof v === "number" && isPlainNumber(v))) continue;
      // for-in also lists what an enumerable property of Object.prototype adds: only own ones are the value's.
      if (!Object.hasOwn(out, k)) continue;
      const encoded = this.value(v);
      if (encoded !== v) setOwn(out, k, encoded);
    }
    return out as Encoded;
  }

  #error(e: Error): Encoded {
    const out: Record<string, Encoded> = {
      [TAG]: "E",
      c: constructorName(e),
      n: String(e.name),
    };
    // Own, or from a getter (DOMException keeps its message and name on the prototype).
    if (Object.hasOwn(e, "message") || (typeof e.message === "string" && e.message !== "")) out.m = String(e.message);
    if (typeof e.stack === "string") out.s = e.stack;
    // cause and errors travel apart only when hidden, as the constructors make them; assigned ones are props.
    const hidden = (key: string) => Object.hasOwn(e, key) && !Object.prototype.propertyIsEnumerable.call(e, key);
    if (hidden("cause")) out.x = this.value(e.cause);
    if (hidden("errors")) out.e = this.value((e as AggregateError).errors);
    const props: Encoded[] = [];
    for (const k of Object.keys(e)) props.push([k, this.value((e as unknown as Record<string, unknown>)[k])]);
    if (props.length > 0) out.p = props;
    return out;
  }
}

class Decoder {
  readonly #objects: unknown[] = [];
  readonly #resolve: ClassResolver;

  constructor(resolve: ClassResolver) {
    this.#resolve = resolve;
  }

  value(e: Encoded): unknown {
    if (e === null || typeof e !== "object") return e;
    // Arrays and plain objects are rebuilt in place: what the decoder gets is the transport's fresh copy.
    if (Array.isArray(e)) {
      const out = e as unknown[];
      this.#objects.push(out);
      for (let i = 0; i < out.length; i++) {
        const item = out[i] as Encoded;
        if (item === null || typeof item !== "object") continue;
        if (isHole(item)) delete out[i];
        else out[i] = this.value(item);
      }
      return out;
    }
    return this.#object(e as EncodedObject);
  }

  #object(e: EncodedObject): unknown {
    const tag = e[TAG];
    if (tag === undefined) {
      const out = e as Record<string, unknown>;
      this.#objects.push(out);
      for (const k in out) {
        const item = out[k] as Encoded;
        if (item !== null && typeof item === "object" && Object.hasOwn(out, k)) setOwn(out, k, this.value(item));
      }
      return out;
    }
    const v = e.v;
    switch (tag) {
      case "u":
        return undefined;
      case "n":
        return v === "-0" ? -0 : Number(v);
      case "s": {
        const units = v as number[];
        let text = "";
        for (let i = 0; i < units.length; i += 0x2000) text += String.fromCharCode(...units.slice(i, i + 0x2000));
        return text;
      }
      case "b":
        return BigInt(v as string);
      case "r":
        return this.#objects[v as number];
      case "D":
        return this.#register(new Date(this.value(v) as number));
      case "R":
        return this.#register(new RegExp(v as string, e.f as string));
      case "P":
        return this.#register(Object(this.value(v)));
      case "B":
        if (v instanceof ArrayBuffer) return this.#register(v);
        if (typeof v !== "string") throw new TypeError("cannot decode an ArrayBuffer from a non-binary payload");
        return this.#register(fromBase64(v));
      case "A": {
        if (isShared(v)) return this.#register(v);
        if (typeof v !== "string" && !(v instanceof ArrayBuffer)) {
          throw new TypeError("cannot decode a SharedArrayBuffer from a non-binary payload");
        }
        const bytes = new Uint8Array(typeof v === "string" ? fromBase64(v) : v);
        const shared = new SharedArrayBuffer(bytes.length);
        new Uint8Array(shared).set(bytes);
        return this.#register(shared);
      }
      case "V": {
        // The view's index comes before its buffer's, as in the encoder; the view fills its slot once built.
        const index = this.#objects.push(undefined) - 1;
        const buffer = this.value(e.b) as ArrayBuffer;
        const View = TYPED_ARRAYS[e.t as string];
        if (View === undefined) throw new TypeError(`cannot decode a ${String(e.t)}: this runtime lacks it`);
        const view = new View(buffer, e.o as number, e.l as number);
        this.#objects[index] = view;
        return view;
      }
      case "M": {
        const map = this.#register(new Map());
        for (const [k, val] of v as Encoded[][]) map.set(this.value(k), this.value(val));
        return map;
      }
      case "S": {
        const set = this.#register(new Set());
        for (const item of v as Encoded[]) set.add(this.value(item));
        return set;
      }
      case "J":
        // Plain data as JSON text (encodeTree): JSON.parse builds it whole.
        if (typeof v !== "string") throw new TypeError("cannot decode plain data from a non-text payload");
        return JSON.parse(v);
      case "O": {
        const out = this.#register({} as Record<string, unknown>);
        for (const [k, val] of v as [string, Encoded][]) setOwn(out, k, this.value(val));
        return out;
      }
      case "E":
        return this.#error(e);
      default:
        throw new TypeError(`cannot decode a value tagged ${JSON.stringify(tag)}`);
    }
  }

  #register<T>(o: T): T {
    this.#objects.push(o);
    return o;
  }

  #error(e: { [key: string]: Encoded }): Error {
    const className = e.c as string;
    const Class = BUILTIN_ERRORS[className] ?? this.#resolve(className) ?? Error;
    // A native error object with the class's prototype, made without running the class's constructor (which
    // might need other arguments or have side effects): pickle rebuilds objects without __init__ likewise.
    const Base = nearestBuiltin(Class);
    const error = Reflect.construct(Base, Base === AggregateError ? [[]] : [], Class) as Error;
    this.#objects.push(error);
    const hidden = (key: string, value: unknown) =>
      Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: false });
    if (e.m !== undefined) hidden("message", e.m);
    if (e.s !== undefined) hidden("stack", e.s);
    else delete (error as { stack?: string }).stack;
    const props = (e.p ?? []) as [string, Encoded][];
    if (e.n !== error.name && !props.some(([k]) => k === "name")) hidden("name", e.n);
    if (e.x !== undefined) hidden("cause", this.value(e.x));
    if (e.e !== undefined) hidden("errors", this.value(e.e));
    for (const [k, val] of props) {
      Object.defineProperty(error, k, { value: this.value(val), writable: true, configurable: true, enumerable: true });
    }
    return error;
  }
}

// The built-in error class `Class` derives from: constructing from it gives a genuine error of that kind.
function nearestBuiltin(Class: new (...args: never[]) => Error): new (...args: unknown[]) => Error {
  const builtins = Object.values(BUILTIN_ERRORS);
  for (let c: unknown = Class; typeof c === "function"; c = Object.getPrototypeOf(c)) {
    if (builtins.includes(c as new (...args: never[]) => Error)) return c as new (...args: unknown[]) => Error;
  }
  return Error as new (...args: unknown[]) => Error;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: true });
  } else {
    target[key] = value;
  }
}

function constructorName(o: object): string {
  const ctor = (Object.getPrototypeOf(o) as { constructor?: { name?: unknown } } | null)?.constructor;
  return typeof ctor?.name === "string" ? ctor.name : "Error";
}

function isWeakRef(o: object): boolean {
  return typeof WeakRef === "function" && o instanceof WeakRef;
}

function isShared(o: unknown): o is SharedArrayBuffer {
  return typeof SharedArrayBuffer === "function" && o instanceof SharedArrayBuffer;
}

// Detaches `buffer` and returns a buffer that owns its memory, without copying it; a buffer the runtime will not
// let go of (a Node Buffer pool's slab, WebAssembly memory) is copied instead, and stays as it was.
function moveOut(buffer: ArrayBuffer): ArrayBuffer {
  try {
    return structuredClone(buffer, { transfer: [buffer] });
  } catch {
    return buffer.slice(0);
  }
}

// Base64 through the runtime's native code where it has some (Node's and Bun's Buffer, the newer
// Uint8Array.prototype.toBase64): 20-80× faster than building a binary string in JavaScript.
interface NativeBuffer {
  from(data: ArrayBufferLike, offset: number, length: number): { toString(encoding: "base64"): string };
  from(text: string, encoding: "base64"): Uint8Array;
}
const NodeBuffer = (globalThis as { Buffer?: NativeBuffer }).Buffer;
type Base64Array = Uint8Array & { toBase64?: () => string };
const fromBase64Native = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64;

function toBase64(bytes: Base64Array): string {
  if (NodeBuffer !== undefined) {
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  }
  if (bytes.toBase64 !== undefined) return bytes.toBase64();
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

// A buffer of exactly the decoded bytes (a small Node Buffer is a slice of a shared pool).
function fromBase64(text: string): ArrayBuffer {
  let bytes: Uint8Array;
  if (NodeBuffer !== undefined) bytes = NodeBuffer.from(text, "base64");
  else if (fromBase64Native !== undefined) bytes = fromBase64Native(text);
  else {
    const binary = atob(text);
    bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  }
  const buffer = bytes.buffer as ArrayBuffer;
  return bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength
    ? buffer
    : buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

// The task module as the parent sees it: its function exports, found by name or by function, and the classes that
// errors coming back from workers are rebuilt with.

import {
  BrokenExecutor,
  BrokenProcessPool,
  CancelledError,
  FuturesError,
  InvalidStateError,
  RuntimeError,
  TimeoutError,
  WorkerExitError,
  WorkerProtocolError,
} from "./errors.ts";
import { decode, type Encoded } from "./protocol.ts";

type ErrorClass = new (...args: never[]) => Error;

// Looked up by a name a worker sent: no prototype, so that "constructor" or "__proto__" finds nothing.
const OWN_ERRORS: Record<string, ErrorClass> = {
  __proto__: null,
  FuturesError,
  CancelledError,
  InvalidStateError,
  TimeoutError,
  RuntimeError,
  BrokenExecutor,
  BrokenProcessPool,
  WorkerExitError,
  WorkerProtocolError,
} as unknown as Record<string, ErrorClass>;

/**
 * The imported task module: the table of its function exports that workers get in the hello, each one's index in
 * it by export name and by function (a function exported under several names takes its first), and the decoder of
 * the values workers send back, which rebuilds errors with the module's own `Error` subclasses or procpool's.
 */
export class TaskModule {
  /** The module's URL. */
  readonly url: string;
  /** The names of its function exports, in the order workers index them. */
  readonly functions: readonly string[];
  readonly #exports: Record<string, unknown>;
  readonly #indices = new Map<unknown, number>();

  /** Wraps the namespace object `exports` of the module at `url`. */
  constructor(url: string, exports: Record<string, unknown>) {
    this.url = url;
    this.#exports = exports;
    const functions: string[] = [];
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value !== "function") continue;
      const index = functions.push(name) - 1;
      this.#indices.set(name, index);
      if (!this.#indices.has(value)) this.#indices.set(value, index);
    }
    this.functions = functions;
  }

  /** The index of `fn` (an exported function or an export's name) in {@linkcode functions}, if it is one. */
  indexOf(fn: unknown): number | undefined {
    return this.#indices.get(fn);
  }

  /** The `TypeError` a task naming `fn` fails with when `fn` is not one of the module's function exports. */
  // deno-lint-ignore ban-types
  notExported(fn: Function | string): TypeError {
    return new TypeError(
      typeof fn === "string"
        ? `${JSON.stringify(fn)} is not a function exported by ${this.url}`
        : `function ${fn.name || "(anonymous)"} is not an export of ${this.url}`,
    );
  }

  /** Rebuilds a value a worker sent. Throws when it cannot (the caller fails only the future it was for). */
  decode(value: Encoded): unknown {
    return decode(value, this.#errorClass);
  }

  // The class an error named `name` is rebuilt with: an Error subclass the module exports, or one of ours.
  readonly #errorClass = (name: string): ErrorClass | undefined => {
    const candidate = Object.hasOwn(this.#exports, name) ? this.#exports[name] : undefined;
    if (typeof candidate === "function" && candidate.prototype instanceof Error) return candidate as ErrorClass;
    return OWN_ERRORS[name];
  };
}

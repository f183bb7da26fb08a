// Task module for the R2 tests: tasks that throw or reject with errors of many shapes, throw non-Error values,
// or return values that cannot travel back to the parent.

/** An error class this module exports: it comes back to the parent as itself. */
export class MyError extends Error {
  static {
    this.prototype.name = "MyError";
  }
}

/** An exported class whose constructor needs arguments the rebuilt error never had. */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(`${status} ${message}`);
    this.status = status;
  }
  static {
    this.prototype.name = "HttpError";
  }
}

/** A subclass of an exported class, with its name as an own field (so it travels as a property). */
export class NotFoundError extends HttpError {
  override name = "NotFoundError";
}

// Not exported: the parent cannot find it, so it comes back as an Error that keeps the name.
class HiddenError extends Error {
  static {
    this.prototype.name = "HiddenError";
  }
}

/** Not a function: submitting it by name must fail. */
export const notAFunction = 42;

export function double(x: number): number {
  return x * 2;
}

const BUILTINS: Record<string, new (message: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Throws (or, when `async`, rejects with) an error of the built-in class `kind`. */
export function throwBuiltin(kind: string, message: string, async = false): unknown {
  const error = new BUILTINS[kind](message);
  if (async) return Promise.reject(error);
  throw error;
}

/** Throws a MyError, synchronously or as a rejection. */
export function throwMine(message: string, async = false): unknown {
  if (async) {
    return (async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new MyError(message);
    })();
  }
  throw new MyError(message);
}

export function throwHttp(status: number, message: string): never {
  throw new HttpError(status, message);
}

export function throwNotFound(message: string): never {
  throw new NotFoundError(404, message);
}

export function throwHidden(message: string): never {
  throw new HiddenError(message);
}

/** An error with own properties and a three-level cause chain ending in a non-Error value. */
export function throwDetailed(): never {
  const root = new MyError("root", { cause: { reason: "disk", codes: [1, 2] } });
  const middle = new RangeError("middle", { cause: root });
  const top = new Error("top", { cause: middle }) as Error & Record<string, unknown>;
  top.code = "E_TOP";
  top.errno = -2;
  top.details = { path: "/x", when: new Date(0), tags: new Set(["a"]) };
  throw top;
}

/** An AggregateError of several kinds of error (and a non-Error value). */
export async function rejectAggregate(): Promise<never> {
  await Promise.resolve();
  throw new AggregateError([new TypeError("t"), new MyError("m"), "plain"], "several failed");
}

/** Throws on the line marked below, so the test can find that line in the remote stack. */
export function throwOnKnownLine(): never {
  throw new MyError("located"); // R2.4 marker line
}

/** Throws `value` itself, whatever it is; rejects with it when `async`. */
export function throwValue(value: unknown, async = false): unknown {
  if (async) return Promise.reject(value);
  throw value;
}

export function throwUndefined(async = false): unknown {
  if (async) return Promise.reject(undefined);
  throw undefined;
}

/** Returns a value that cannot be sent back: a function, a symbol, a WeakMap, or an object whose getter throws. */
export function returnUnsendable(kind: string, async = false): unknown {
  const value = kind === "function" ? () => 1 : kind === "symbol" ? Symbol("s") : kind === "weakmap" ? new WeakMap() : {
    get exploding(): never {
      throw new Error("getter exploded");
    },
  };
  return async ? Promise.resolve({ nested: [value] }) : value;
}

/** Throws an error that cannot be sent back: one of its properties is a function. */
export function throwUnsendable(): never {
  const error = new MyError("has a function") as MyError & { callback?: () => void };
  error.callback = () => {};
  throw error;
}

/** Throws a function. */
export function throwFunction(): never {
  throw function thrownFunction() {};
}

/** Counts how many arguments arrived (for the unsendable-argument tests; never expected to run). */
export function countArgs(...args: unknown[]): number {
  return args.length;
}

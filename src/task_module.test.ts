// Unit tests of the parent's view of the task module: finding exports and rebuilding workers' errors (R2.3, R9.5).

import "./_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BrokenProcessPool, CancelledError } from "./errors.ts";
import { encode, type Encoded } from "./protocol.ts";
import { TaskModule } from "./task_module.ts";

class ValueError extends Error {}
function double(x: number): number {
  return x * 2;
}
const URL_ = "file:///tasks.ts";
const module = () => new TaskModule(URL_, { double, twice: double, ValueError, answer: 42, __esModule: true });

// What a worker sends for an error whose class is called `name`.
function errorNamed(name: string): Encoded {
  const Class = { [name]: class extends Error {} }[name];
  const error = new Class("boom");
  error.name = name;
  return encode(error);
}

describe("TaskModule", () => {
  it("R9.5 finds a function export by name and by function; a function under two names takes its first", () => {
    const tasks = module();
    // Classes are functions too: ValueError is in the table, the number is not.
    assert.deepEqual(tasks.functions, ["double", "twice", "ValueError"]);
    assert.equal(tasks.indexOf("double"), 0);
    assert.equal(tasks.indexOf("twice"), 1);
    assert.equal(tasks.indexOf(double), 0);
    for (const missing of ["answer", "nope", "constructor", "__proto__", "toString", () => 1, undefined]) {
      assert.equal(tasks.indexOf(missing), undefined, String(missing));
    }
  });

  it("R9.5 notExported names the function or the export name, and the module", () => {
    const tasks = module();
    assert.equal(tasks.notExported("nope").message, `"nope" is not a function exported by ${URL_}`);
    assert.equal(tasks.notExported(function helper() {}).message, `function helper is not an export of ${URL_}`);
    assert.equal(tasks.notExported(() => {}).message, `function (anonymous) is not an export of ${URL_}`);
  });

  it("R2.3 an error comes back as the module's exported class, else procpool's own, else a plain Error", () => {
    const tasks = module();
    assert.ok(tasks.decode(errorNamed("ValueError")) instanceof ValueError);
    assert.ok(tasks.decode(errorNamed("CancelledError")) instanceof CancelledError);
    assert.ok(tasks.decode(errorNamed("BrokenProcessPool")) instanceof BrokenProcessPool);
    const unknown = tasks.decode(errorNamed("SomethingElse")) as Error;
    assert.equal(unknown.name, "SomethingElse");
    assert.equal(unknown.message, "boom");
  });

  it("R2.3 a class name from a worker never finds Object.prototype's members or a non-error export", () => {
    const tasks = module();
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty", "double", "answer"]) {
      const error = tasks.decode(errorNamed(name));
      assert.ok(error instanceof Error, name);
      assert.equal(Object.getPrototypeOf(error), Error.prototype, name);
      assert.equal((error as Error).name, name);
    }
  });
});

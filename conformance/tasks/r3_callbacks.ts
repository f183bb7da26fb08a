// Task module for the R3 tests: quick and slow tasks, a failing task, a failing initializer, and the tutorial's
// "work" task whose future gets the callbacks.

/** The error class the failing task throws. */
export class ValueError extends Error {
  static {
    this.prototype.name = "ValueError";
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function double(x: number): number {
  return x * 2;
}

/** Returns `value` after `ms`. */
export async function nap<T>(ms: number, value: T): Promise<T> {
  await delay(ms);
  return value;
}

export function fail(message: string): never {
  throw new ValueError(message);
}

export function failingInit(message: string): void {
  throw new ValueError(message);
}

/** The tutorial's task: sleeps a moment, then returns a string. */
export async function work(ms: number): Promise<string> {
  await delay(ms);
  return "Task is done";
}

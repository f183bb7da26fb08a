// A task module for tests and examples: quick arithmetic, errors of several kinds, and worker crashes.

/** An error class the module exports: it comes back to the parent as itself. */
export class ValueError extends Error {
  static {
    this.prototype.name = "ValueError";
  }
}

let initialized: string | undefined;

export function double(x: number): number {
  return x * 2;
}

export function add(a: number, b: number): number {
  return a + b;
}

export async function slowDouble(x: number, ms: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return x * 2;
}

export function sleep(ms: number): number {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* busy: the worker is really occupied */ }
  return ms;
}

export function fail(message: string): never {
  throw new ValueError(message);
}

export function identity<T>(value: T): T {
  return value;
}

export function pid(): number {
  return (globalThis as { process?: { pid: number } }).process?.pid ?? -1;
}

export function init(tag: string): void {
  initialized = tag;
}

export function failingInit(message: string): void {
  throw new ValueError(message);
}

export function getInitialized(): string | undefined {
  return initialized;
}

export function exit(code: number): void {
  (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(code);
}

// Which runtime this is, and the lazy loading of the backend that runs workers on it.

import process from "node:process";
import type { Backend, BackendOptions } from "./backend.ts";

/** The kinds of backend a pool can ask for; `"auto"` is the runtime's default. */
export type BackendKind = "auto" | "worker" | "process";

/** The runtimes procpool knows. */
export type RuntimeName = "deno" | "bun" | "node";

const KINDS: readonly string[] = ["auto", "worker", "process"];

/** The extension of a module URL: ".ts" when run from source, ".js" when a registry compiled it. */
export function extname(url: string): string {
  const match = /\.[cm]?[jt]s$/.exec(new URL(url).pathname);
  return match === null ? ".ts" : match[0];
}

/** Tells which runtime this code runs on, from its globals. */
export function currentRuntime(): RuntimeName {
  if ("Deno" in globalThis) return "deno";
  if ("Bun" in globalThis) return "bun";
  return "node";
}

interface DenoGlobal {
  permissions: { querySync(descriptor: { name: string }): { state: string } };
  errors: { PermissionDenied: new (message: string) => Error };
}

/**
 * Throws unless `kind` is a backend kind this runtime can give: a TypeError naming an unknown kind, and on
 * Deno, Deno's PermissionDenied for `"process"` without the run permission.
 */
export function checkBackendKind(kind: unknown): asserts kind is BackendKind {
  if (typeof kind !== "string" || !KINDS.includes(kind)) {
    throw new TypeError(
      `Cannot create the pool: unknown backend ${JSON.stringify(String(kind))}; expected "auto", "worker" or "process"`,
    );
  }
  if (kind === "process" && currentRuntime() === "deno") {
    const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
    if (deno.permissions.querySync({ name: "run" }).state !== "granted") {
      throw new deno.errors.PermissionDenied(
        'Cannot create the pool: backend "process" needs the run permission; run Deno with --allow-run',
      );
    }
  }
}

interface BackendModule {
  createBackend(options: BackendOptions): Backend;
}

/** The backend modules: each exports `createBackend()`. Loaded by `import()` only when first needed. */
const loaders: Record<RuntimeName, Record<Exclude<BackendKind, "auto">, () => Promise<BackendModule>>> = {
  node: {
    process: () => import("./node_child_process.ts"),
    worker: () => import("./node_worker_threads.ts"),
  },
  deno: {
    process: () => import("./node_child_process.ts"),
    worker: () => import("./deno_worker.ts"),
  },
  bun: {
    process: () => import("./node_child_process.ts"),
    worker: () => import("./node_worker_threads.ts"),
  },
};

const defaults: Record<RuntimeName, Exclude<BackendKind, "auto">> = { node: "process", deno: "worker", bun: "worker" };

/** The kind of backend `kind` stands for on this runtime (`"auto"` is the runtime's default). */
export function concreteKind(kind: BackendKind): Exclude<BackendKind, "auto"> {
  return kind === "auto" ? defaults[currentRuntime()] : kind;
}

/** Whether the backend of `kind` moves buffers on this runtime: threads do; a process's pipe copies them. */
export function movesBuffers(kind: BackendKind): boolean {
  return concreteKind(kind) === "worker";
}

const modules = new Map<string, Promise<BackendModule>>();

/** Creates a backend of `kind` for this runtime, importing its module the first time it is needed. */
export async function loadBackend(kind: BackendKind, options: BackendOptions): Promise<Backend> {
  const runtime = currentRuntime();
  const concrete = concreteKind(kind);
  const key = `${runtime}-${concrete}`;
  let module = modules.get(key);
  if (module === undefined) {
    module = loaders[runtime][concrete]();
    modules.set(key, module);
  }
  return (await module).createBackend(options);
}

/**
 * The error a pool reports when the parent cannot import its task module: `error` itself, except where Node
 * refused a TypeScript module because it cannot strip types (Node before 22.18 and 23.6, without a loader): then
 * a TypeError that says what to do, with Node's error as its cause.
 */
export function importError(error: unknown, module: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== "ERR_UNKNOWN_FILE_EXTENSION" || !/\.[cm]?ts$/.test(new URL(module).pathname)) return error;
  return new TypeError(
    `Cannot import the task module ${module}: this Node (${process.version}) cannot run TypeScript by itself. ` +
      "Start it with a TypeScript loader (node --import tsx), use Node 22.18+ or 23.6+ (they strip types), " +
      "or write the module in JavaScript",
    { cause: error },
  );
}

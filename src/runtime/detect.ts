// Which runtime this is, and the lazy loading of the backend that runs workers on it.

import type { Backend } from "./backend.ts";

/** The kinds of backend a pool can ask for; `"auto"` is the runtime's default. */
export type BackendKind = "auto" | "worker" | "process";

/** The runtimes procpool knows. */
export type RuntimeName = "deno" | "bun" | "node";

const KINDS: readonly string[] = ["auto", "worker", "process"];

/** Tells which runtime this code runs on, from its globals. */
export function currentRuntime(): RuntimeName {
  if ("Deno" in globalThis) return "deno";
  if ("Bun" in globalThis) return "bun";
  return "node";
}

/** Throws a TypeError naming `kind` unless it is a backend kind this runtime can give. */
export function checkBackendKind(kind: unknown): asserts kind is BackendKind {
  if (typeof kind !== "string" || !KINDS.includes(kind)) {
    throw new TypeError(
      `Cannot create the pool: unknown backend ${JSON.stringify(String(kind))}; expected "auto", "worker" or "process"`,
    );
  }
}

/** The backend modules: each exports `createBackend()`. Loaded by `import()` only when first needed. */
const loaders: Record<RuntimeName, Record<Exclude<BackendKind, "auto">, () => Promise<{ createBackend(): Backend }>>> = {
  node: {
    process: () => import("./node_child_process.ts"),
    worker: () => import("./node_worker_threads.ts"),
  },
  deno: {
    process: () => import("./node_child_process.ts"),
    worker: () => import("./node_worker_threads.ts"),
  },
  bun: {
    process: () => import("./node_child_process.ts"),
    worker: () => import("./node_worker_threads.ts"),
  },
};

const defaults: Record<RuntimeName, Exclude<BackendKind, "auto">> = { node: "process", deno: "worker", bun: "worker" };

const cache = new Map<string, Promise<Backend>>();

/** Loads (once) and returns the backend of `kind` for this runtime. */
export function loadBackend(kind: BackendKind): Promise<Backend> {
  const runtime = currentRuntime();
  const concrete = kind === "auto" ? defaults[runtime] : kind;
  const key = `${runtime}-${concrete}`;
  let backend = cache.get(key);
  if (backend === undefined) {
    backend = loaders[runtime][concrete]().then((m) => m.createBackend());
    cache.set(key, backend);
  }
  return backend;
}

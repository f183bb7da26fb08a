// Deno permissions for workers: checking the option, and turning it into `deno run` flags or Worker options.

import type { DenoPermissionMap, DenoPermissions, DenoPermissionValue } from "./backend.ts";

/** The permission kinds procpool passes on, as Deno names them. */
export const PERMISSION_KINDS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

type Kind = typeof PERMISSION_KINDS[number];

interface DenoPermissionsApi {
  querySync?(descriptor: { name: string }): { state: string };
}

function parentHolds(kind: Kind): boolean {
  const api = (globalThis as { Deno?: { permissions?: DenoPermissionsApi } }).Deno?.permissions;
  try {
    return api?.querySync?.({ name: kind }).state === "granted";
  } catch {
    return false; // a kind this Deno does not know
  }
}

/** Throws a TypeError unless `value` is a valid `denoPermissions` option. */
export function checkDenoPermissions(value: unknown): asserts value is DenoPermissions | undefined {
  if (value === undefined || value === "inherit" || value === "none") return;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`Cannot create the pool: denoPermissions must be "inherit", "none" or an object`);
  }
  for (const [kind, v] of Object.entries(value)) {
    if (!(PERMISSION_KINDS as readonly string[]).includes(kind)) {
      throw new TypeError(`Cannot create the pool: unknown Deno permission ${JSON.stringify(kind)}`);
    }
    const ok = typeof v === "boolean" || v === "inherit" ||
      (Array.isArray(v) && v.every((item) => typeof item === "string"));
    if (!ok) {
      throw new TypeError(
        `Cannot create the pool: denoPermissions.${kind} must be a boolean, "inherit" or a list of strings`,
      );
    }
  }
}

function valueOf(permissions: DenoPermissions, kind: Kind): DenoPermissionValue {
  if (permissions === "inherit") return "inherit";
  if (permissions === "none") return false;
  return (permissions as DenoPermissionMap)[kind] ?? false;
}

/**
 * The `deno run` flags for `permissions`. "inherit" grants a kind the parent holds in full; a kind the parent
 * holds only for some paths or hosts must be listed explicitly. The task module's own file is always readable,
 * since the worker imports it.
 */
export function permissionFlags(permissions: DenoPermissions, taskModulePath?: string): string[] {
  const flags = ["--no-prompt"];
  for (const kind of PERMISSION_KINDS) {
    let value = valueOf(permissions, kind);
    if (value === "inherit") value = parentHolds(kind);
    if (kind === "read" && value === false && taskModulePath !== undefined) value = [taskModulePath];
    if (value === true) flags.push(`--allow-${kind}`);
    else if (Array.isArray(value) && value.length > 0) flags.push(`--allow-${kind}=${value.join(",")}`);
  }
  return flags;
}

/** The `deno.permissions` option of a Deno Web Worker for `permissions`; the task module stays readable. */
export function workerPermissions(
  permissions: DenoPermissions,
  taskModulePath?: string,
): Record<string, boolean | string[] | "inherit"> {
  const out: Record<string, boolean | string[] | "inherit"> = {};
  for (const kind of PERMISSION_KINDS) {
    let value = valueOf(permissions, kind);
    if (kind === "read" && value === false && taskModulePath !== undefined) value = [taskModulePath];
    out[kind] = Array.isArray(value) ? [...value] : value as boolean | "inherit";
  }
  return out;
}

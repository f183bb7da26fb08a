// A task module that reports which Deno permissions its worker holds.

interface DenoPermissionsApi {
  query(descriptor: { name: string }): Promise<{ state: string }>;
}

/** The state of each permission kind in this worker ("granted", "prompt", "denied"), or {} off Deno. */
export async function permissionStates(): Promise<Record<string, string>> {
  const deno = (globalThis as { Deno?: { permissions: DenoPermissionsApi } }).Deno;
  if (deno === undefined) return {};
  const states: Record<string, string> = {};
  for (const name of ["read", "write", "net", "env", "run", "sys"]) {
    states[name] = (await deno.permissions.query({ name })).state;
  }
  return states;
}

/** Reads an environment variable with Deno's own API: throws Deno's NotCapable error without `env` permission. */
export function readEnv(name: string): string | undefined {
  const deno = (globalThis as { Deno?: { env: { get(key: string): string | undefined } } }).Deno;
  if (deno === undefined) throw new Error("not on Deno");
  return deno.env.get(name);
}

// A task module for the NATS direct-mode tests: what a worker's environment shows task code.

import process from "node:process";

/** The names of the variables whose name starts with PROCPOOL, and whether any value holds `secret`. */
export function procpoolEnv(secret: string): { names: string[]; leaks: boolean } {
  const names = Object.keys(process.env).filter((name) => name.startsWith("PROCPOOL")).sort();
  const leaks = Object.values(process.env).some((value) => value?.includes(secret) === true);
  return { names, leaks };
}

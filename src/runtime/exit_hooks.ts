// Exits that task code calls (`process.exit`, `Deno.exit`) made to send the worker's finished outcomes first.

type Exit = (code?: number) => never;

/**
 * Wraps `process.exit` and, on Deno, `Deno.exit`, so that they call `beforeExit` (which sends the outcomes of the
 * tasks that finished before this one, R8.1) and then exit as before. An exit is a crash of the worker, not a task
 * error (R8.3): only what was already done is kept.
 */
export function hookExits(beforeExit: () => void): void {
  const wrap = (exit: Exit): Exit => (code?: number) => {
    try {
      beforeExit();
    } catch {
      // The channel is gone (the parent died): exit all the same.
    }
    return exit(code);
  };
  const nodeProcess = (globalThis as { process?: { exit: Exit } }).process;
  if (nodeProcess !== undefined) nodeProcess.exit = wrap(nodeProcess.exit.bind(nodeProcess));
  const deno = (globalThis as { Deno?: { exit: Exit } }).Deno;
  if (deno !== undefined) deno.exit = wrap(deno.exit.bind(deno));
}

// Exits that task code calls (`process.exit`, `Deno.exit`) made to send the worker's finished outcomes first.

type Exit = (code?: number) => never;

/**
 * Wraps `process.exit` and, on Deno, `Deno.exit`, so that they call `beforeExit` (which sends the outcomes of the
 * tasks that finished so far, R8.1) and then exit as before. Task code that exits crashes its worker, which is not
 * a task error (R8.3): only what was already done is kept. The worker's own exits pass through here too, with
 * nothing left to send.
 *
 * On a process's IPC channel the send is asynchronous: an outcome larger than what the pipe takes at once
 * (64 KiB) can still be cut off by the exit that follows it.
 */
export function hookExits(beforeExit: () => void): void {
  // The arguments go on as they came: Node's process.exit() tells exit() from exit(undefined), which clears an
  // exit code set before (a thread's uncaught error sets 1, then calls exit()).
  const wrap = (exit: Exit): Exit => (...args: [code?: number]) => {
    try {
      beforeExit();
    } catch {
      // The channel is gone (the parent died): exit all the same.
    }
    return exit(...args);
  };
  const nodeProcess = (globalThis as { process?: { exit: Exit } }).process;
  if (nodeProcess !== undefined) nodeProcess.exit = wrap(nodeProcess.exit.bind(nodeProcess));
  const deno = (globalThis as { Deno?: { exit: Exit } }).Deno;
  if (deno !== undefined) deno.exit = wrap(deno.exit.bind(deno));
}

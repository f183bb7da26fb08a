// Task module for the exception-handling examples: every export here runs inside a pool worker.
// Its top level runs in the parent and in each worker, so it only declares functions.

/** Waits `ms` milliseconds: the stand-in for the work a real task would do. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Worker initializer that always fails, which breaks the whole pool (example 01). */
export function failingInitializer(): void {
  throw new Error("Something bad happened!");
}

/** Waits a random moment below 300 ms, then hands its identifier back (example 01). */
export async function echoAfterRandomPause(identifier: number): Promise<number> {
  await pause(Math.random() * 300);
  return identifier;
}

/** Fails internally but recovers, reporting the failure through its return value (example 02). */
export async function workThatRecovers(): Promise<string> {
  await pause(200);
  try {
    throw new Error("Something bad happened!");
  } catch {
    return "Unable to get the result";
  }
}

/** Fails and lets the error escape to whoever collects the result (examples 03 and 04). */
export async function workThatFails(): Promise<string> {
  await pause(200);
  throw new Error("Something bad happened!");
}

/** Same failure as `workThatFails`, but takes an item so that it can be mapped (example 05). */
export async function workOnItemThatFails(_value: number): Promise<string> {
  await pause(200);
  throw new Error("Something bad happened!");
}

/** Succeeds after a short pause (example 06). */
export async function workThatSucceeds(): Promise<string> {
  await pause(200);
  return "Task is done";
}

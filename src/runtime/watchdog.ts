// A process worker's watchdog thread: it kills the worker when its parent dies, even while a task holds the worker.

import { Worker } from "node:worker_threads";

/** How often the thread looks at the parent: the worker is gone this long (and a little) after the parent. */
const POLL_MS = 200;

// How it knows: a parent that dies leaves its child to a reaper, so the child's parent pid changes. Each runtime
// reads ppid anew on every call, in a thread too, and lets a process signal itself without Deno's run permission
// (all checked). The thread's whole program is plain JavaScript given as a data: URL, so it needs no file beside
// this one (from .ts or a registry's .js alike), no TypeScript loader (a Node thread does not inherit tsx), and on
// Deno no read permission.
const SOURCE = `
import process from "node:process";
import { workerData } from "node:worker_threads";
const timer = setInterval(() => {
  if (process.ppid === workerData) return;
  clearInterval(timer);
  process.kill(process.pid, "SIGKILL");
}, ${POLL_MS});
`;

/**
 * Starts a thread that kills this process with SIGKILL within about 200 ms of `parentPid` ceasing to
 * be its parent (R7.6: no worker outlives the parent). The IPC channel's "disconnect" event does the same for an
 * idle worker, but its handler never runs while a task holds the main thread in a synchronous loop; this thread
 * does not need the main thread. The thread is unref'd, so it never keeps the process alive. Where a thread
 * cannot start, the worker runs without one.
 *
 * Windows does not reparent a child whose parent died, so there the watchdog never fires.
 *
 * @param parentPid The pid of the pool's process, as this process saw it when it started (`process.ppid`).
 */
export function startWatchdog(parentPid: number): void {
  try {
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(SOURCE)}`), {
      workerData: parentPid,
      // Node would otherwise start the thread with the parent's flags, tsx's --import among them.
      execArgv: [],
    });
    // A thread that fails must not take the worker down with an unhandled "error" event.
    worker.on("error", () => {});
    worker.unref();
  } catch {
    // No thread (a runtime without one): the "disconnect" handler still ends an idle worker.
  }
}

// AbortSignal plumbing: one listener that a waiting call removes when it settles, and tasks tied to a signal
// (std's and p-queue's recipe: a signal aborted already throws `signal.reason` at the call; else listen once).

import { type Future, onDone } from "./future.ts";

/** Calls `fn` once when `signal` aborts; returns the function that stops listening (call it when the wait ends). */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  signal.addEventListener("abort", fn, { once: true });
  return () => signal.removeEventListener("abort", fn);
}

// The futures tied to one signal, and how to stop listening to it.
interface Tied {
  readonly futures: Set<Future<unknown>>;
  readonly stopListening: () => void;
}

// One listener per signal, not one per future: a batch of tasks sharing a signal would otherwise trip Node's
// "Possible EventTarget memory leak detected" warning at the eleventh. A signal's entry goes when it aborts, or
// when its last future is done, and with it the listener.
const tiedTo = new WeakMap<AbortSignal, Tied>();

/**
 * Cancels `future` when `signal` aborts, if it is still pending then (`cancel()` changes nothing for a running or
 * done future). Holds nothing for the future once it is done.
 */
export function cancelOnAbort(future: Future<unknown>, signal: AbortSignal): void {
  if (future.done()) return;
  if (signal.aborted) {
    future.cancel();
    return;
  }
  const tied = tiedTo.get(signal) ?? listenFor(signal);
  const { futures, stopListening } = tied;
  futures.add(future);
  onDone(future, () => {
    futures.delete(future);
    if (futures.size === 0 && tiedTo.get(signal) === tied) {
      tiedTo.delete(signal);
      stopListening();
    }
  });
}

// Starts listening to `signal` on behalf of the futures tied to it.
function listenFor(signal: AbortSignal): Tied {
  const futures = new Set<Future<unknown>>();
  const stopListening = onAbort(signal, () => {
    tiedTo.delete(signal);
    // A copy: each cancel() runs the future's observers, which take it out of the set.
    for (const f of [...futures]) f.cancel();
  });
  const tied = { futures, stopListening };
  tiedTo.set(signal, tied);
  return tied;
}

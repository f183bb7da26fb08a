// AbortSignal plumbing: one listener per signal, shared by every call that listens to it, and tasks tied to a
// signal (std's and p-queue's recipe: a signal aborted already throws `signal.reason` at the call; else listen once).

import { type Future, onDone } from "./future.ts";

// The callbacks waiting for one signal, in the order they were added, and the one listener that calls them.
interface Listening {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}

// One listener per signal, not one per call: eleven calls sharing a signal would otherwise trip Node's "Possible
// EventTarget memory leak detected" warning. A signal's entry goes, and with it the listener, when the signal
// aborts or when its last callback stops listening; nothing then keeps a call reachable from a long-lived signal.
const listening = new WeakMap<AbortSignal, Listening>();

/**
 * Calls `fn` once when `signal` aborts; returns the function that stops listening (call it when the wait ends).
 * Nothing happens for a signal aborted already, as with `addEventListener`: callers check `signal.aborted` first.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) return () => {};
  const entry = listening.get(signal) ?? listenFor(signal);
  // A wrapper of its own, so that the same fn added twice is two callbacks, each removed by its own stop.
  const callback = () => fn();
  entry.callbacks.add(callback);
  return () => {
    if (!entry.callbacks.delete(callback) || entry.callbacks.size > 0 || listening.get(signal) !== entry) return;
    listening.delete(signal);
    signal.removeEventListener("abort", entry.listener);
  };
}

// Starts listening to `signal` on behalf of every callback that will be added for it.
function listenFor(signal: AbortSignal): Listening {
  const callbacks = new Set<() => void>();
  const listener = () => {
    listening.delete(signal);
    let failure: { error: unknown } | undefined;
    // The live set: a callback removed by an earlier one (a future it cancelled is done) is skipped, as a listener
    // removed during dispatch is. None can be added: onAbort ignores an aborted signal.
    for (const callback of callbacks) {
      callbacks.delete(callback);
      try {
        callback();
      } catch (error) {
        // The others still run, as other listeners would; the first error is reported as a listener's is.
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  };
  signal.addEventListener("abort", listener, { once: true });
  const entry = { callbacks, listener };
  listening.set(signal, entry);
  return entry;
}

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
  onDone(future, onAbort(signal, () => future.cancel()));
}

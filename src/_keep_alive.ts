// Holding the event loop open while a pool has work (R7.7), without a timer per task: one long interval per pool,
// switched on and off with ref()/unref() where timers have them (Node, Bun and Deno 2 all return Timeout objects).

/** A switch that keeps the event loop alive while it is held. */
export class KeepAlive {
  #timer: ReturnType<typeof setInterval> | undefined;
  #held = false;

  /** Keeps the event loop alive until {@linkcode KeepAlive.release}. Idempotent. */
  hold(): void {
    if (this.#held) return;
    this.#held = true;
    if (this.#timer === undefined) this.#timer = setInterval(() => {}, 1 << 30);
    else (this.#timer as { ref?: () => void }).ref?.();
  }

  /** Lets the event loop end again. Idempotent. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    const timer = this.#timer as { unref?: () => void };
    if (typeof timer.unref === "function") timer.unref();
    else this.dispose();
  }

  /** Removes the timer for good (a later {@linkcode KeepAlive.hold} makes a new one). */
  dispose(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#held = false;
  }
}

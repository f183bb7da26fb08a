// The bare worker loop shared by the raw process child and the raw thread: import, then one reply per message.

/** The first message: which module to import and which export to call. */
export interface BareHello {
  readonly module: string;
  readonly fn: string;
}

/** One task: its id and its argument. */
export type BareTask = [id: number, x: number];

/** One reply: the task's id and the function's result. */
export type BareReply = [id: number, value: number];

/**
 * Serves one bare worker. Tasks that arrive while the module is still loading wait in arrival order, as they
 * do in procpool's worker; "ready" is sent once the module is loaded.
 */
export function serveBare(
  send: (message: BareReply | "ready") => void,
  onMessage: (listener: (message: BareHello | BareTask) => void) => void,
): void {
  let fn: ((x: number) => number) | undefined;
  const early: BareTask[] = [];
  onMessage((message) => {
    if (!Array.isArray(message)) {
      void import(message.module).then((exports: Record<string, (x: number) => number>) => {
        fn = exports[message.fn];
        send("ready");
        for (const [id, x] of early) send([id, fn(x)]);
        early.length = 0;
      });
      return;
    }
    if (fn === undefined) early.push(message);
    else send([message[0], fn(message[1])]);
  });
}

// A direct worker's NATS thread: it holds the worker process's connection, so that the connection answers the
// server's pings while a task holds the main thread (a connection that stops answering is dropped as stale after
// a few minutes). It carries frames as JSON text both ways; the main thread parses and serializes them.
//
// Messages with the main thread (worker_port.ts), on the port it hands over: a string is a frame's text either
// way; an array is a signal. To the main thread: ["ready"], ["failed", why], ["lost", why]. From it: ["flush", n]
// (once the server has every frame published so far, store n in the shared CONFIRMED slot and wake the main
// thread, which waits for it before the process exits, as long as the PROGRESS slot moves), ["exiting"] (a closed
// connection is no longer news).

import { readFileSync } from "node:fs";
import { type MessagePort, workerData } from "node:worker_threads";
import { credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { bytesWritten, openConnection, payloadLimit, pushNow } from "./connection.ts";
import { Assembler, CONFIRMED, inSubject, outSubject, type PortSettings, PROGRESS, textPayloads } from "./wire.ts";

// While a flush waits for the server, how often the thread looks whether its socket still writes.
const PROGRESS_POLL_MS = 100;

const { settings, port, shared } = workerData as {
  settings: PortSettings;
  port: MessagePort;
  /** Two counters, shared with the main thread: see {@linkcode CONFIRMED} and {@linkcode PROGRESS}. */
  shared: SharedArrayBuffer;
};
const counters = new Int32Array(shared);

async function connectWorker(): Promise<NatsConnection> {
  const connectOptions = { ...settings.connectOptions } as Partial<NodeConnectionOptions>;
  if (settings.credsFile !== undefined) {
    connectOptions.authenticator = credsAuthenticator(readFileSync(settings.credsFile));
  }
  // No reconnection: a worker whose connection closed may have lost frames both ways, and exits; its agent
  // reports the exit. (`reconnect: false` rather than `maxReconnectAttempts: 0`, which in the client's first dial
  // loop also drops the next server of the list when the first one fails: checked on 3.3.1.)
  return await openConnection(
    { servers: settings.servers, user: settings.user, pass: settings.pass, token: settings.token, connectOptions },
    { name: settings.name, reconnect: false },
  );
}

async function main(): Promise<void> {
  let nc: NatsConnection;
  try {
    nc = await connectWorker();
  } catch (error) {
    port.postMessage(["failed", String((error as Error)?.message ?? error)]);
    port.close();
    return;
  }
  const limit = payloadLimit(nc);
  const out = outSubject(settings.pool, settings.worker);
  const assembler = new Assembler();
  let exiting = false;

  nc.subscribe(inSubject(settings.pool, settings.worker), {
    callback: (error, msg) => {
      if (error !== null) return;
      const text = assembler.pushText(msg.data);
      if (text !== undefined) port.postMessage(text);
    },
  });
  await nc.flush();

  nc.closed().then((error) => {
    if (exiting) return;
    port.postMessage(["lost", `its NATS connection closed${error ? ` (${error.message})` : ""}`]);
  });

  const progress = () => Atomics.add(counters, PROGRESS, 1);
  port.on("message", (data: unknown) => {
    if (typeof data === "string") {
      if (nc.isClosed()) return;
      progress();
      for (const payload of textPayloads(data, limit)) {
        nc.publish(out, payload);
        progress();
      }
      pushNow(nc);
    } else if (Array.isArray(data) && data[0] === "exiting") {
      exiting = true;
    } else if (Array.isArray(data) && data[0] === "flush") {
      // The server answers a flush after it took every frame before it; until then, a socket that still writes
      // (a large frame draining) is progress.
      let written = bytesWritten(nc);
      const watch = setInterval(() => {
        const now = bytesWritten(nc);
        if (now !== written) progress();
        written = now;
      }, PROGRESS_POLL_MS);
      const done = nc.isClosed() ? Promise.resolve() : nc.flush().catch(() => {});
      done.then(() => {
        clearInterval(watch);
        Atomics.store(counters, CONFIRMED, data[1] as number);
        Atomics.notify(counters, CONFIRMED);
      });
    }
  });
  port.postMessage(["ready"]);
}

await main();

// A direct worker's port: a worker process that an agent started talks to its parent through NATS itself, on its
// own connection, so that a frame takes the path a raw request/reply takes (no relay through the agent).

import { readFileSync } from "node:fs";
import process from "node:process";
import { credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { EXITING } from "../protocol.ts";
import type { ParentPort, PortModule } from "../runtime/backend.ts";
import { openConnection, payloadLimit, pushNow } from "./connection.ts";
import {
  Assembler,
  inSubject,
  outSubject,
  PORT_SETTINGS_ENV,
  PORT_SIGNAL,
  type PortSettings,
  toPayloads,
} from "./wire.ts";

// How long a clean exit waits for the server to confirm it has every frame before the worker goes.
const EXIT_FLUSH_MS = 1000;

// The settings, read once and removed from the environment: task code must not see the credentials.
function takeSettings(): PortSettings {
  const text = process.env[PORT_SETTINGS_ENV];
  delete process.env[PORT_SETTINGS_ENV];
  if (text === undefined) throw new Error(`${PORT_SETTINGS_ENV} is not set`);
  return JSON.parse(text) as PortSettings;
}

async function connectWorker(settings: PortSettings): Promise<NatsConnection> {
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

/**
 * Connects to NATS with the settings in `PROCPOOL_NATS_PORT`, subscribes to the worker's `in` subject, tells the
 * agent over `control` once the server has the subscription, and returns the port `serve()` uses: frames from
 * `in`, frames to `out`, each written to the socket when sent (R8.1: an exit right after loses none). JSON text
 * carries no buffers: binary values travel as base64.
 */
export const openPort: PortModule["openPort"] = async (control: ParentPort): Promise<ParentPort> => {
  const settings = takeSettings();
  let nc: NatsConnection;
  try {
    nc = await connectWorker(settings);
  } catch (error) {
    control.send([PORT_SIGNAL, "failed", String((error as Error)?.message ?? error)]);
    throw error;
  }
  const limit = payloadLimit(nc);
  const out = outSubject(settings.pool, settings.worker);
  const assembler = new Assembler();
  let listener: ((message: unknown) => void) | undefined;
  const early: unknown[] = [];
  let exiting = false;

  nc.subscribe(inSubject(settings.pool, settings.worker), {
    callback: (error, msg) => {
      if (error !== null) return;
      let message: unknown;
      try {
        message = assembler.push(msg.data);
      } catch (failure) {
        // serve()'s check rejects it, saying why, and the worker exits.
        message = failure;
      }
      if (message === undefined || (!Array.isArray(message) && !(message instanceof Error))) return;
      if (listener === undefined) early.push(message);
      else listener(message);
    },
  });
  await nc.flush();

  nc.closed().then((error) => {
    if (exiting) return;
    exiting = true;
    const why = `its NATS connection closed${error ? ` (${error.message})` : ""}`;
    console.error(`procpool worker: ${why}`);
    control.send([PORT_SIGNAL, "lost", why]);
    control.exit(1);
  });

  const send = (message: unknown): void => {
    if (nc.isClosed()) return;
    for (const payload of toPayloads(message, limit)) nc.publish(out, payload);
    pushNow(nc);
  };

  control.send([PORT_SIGNAL, "ready"]);
  return {
    carriesBuffers: false,
    send,
    onMessage(next) {
      listener = next;
      for (const message of early.splice(0)) next(message);
    },
    exit(code: number) {
      if (exiting) return;
      exiting = true;
      send([EXITING, code]);
      // The server's answer to a flush comes after it took every frame before it: then the agent's exit report,
      // which it sends on its own connection once this process is gone, cannot overtake them.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const flushed = nc.isClosed() ? Promise.resolve() : nc.flush().catch(() => {});
      const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, EXIT_FLUSH_MS));
      Promise.race([flushed, timeout]).then(() => {
        clearTimeout(timer);
        try {
          control.exit(code);
        } catch {
          // The channel to the agent is gone (it died): exit all the same.
          process.exit(code);
        }
      });
    },
  };
};

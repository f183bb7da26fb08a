// Opening a NATS connection for procpool, and letting it run without holding the event loop open.

import { connect, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";

/** How to reach and authenticate with the NATS servers, shared by the backend and the agent. */
export interface NatsConnectOptions {
  /** The server URLs, such as `"nats://127.0.0.1:4222"`, one or a list. */
  readonly servers: string | readonly string[];
  /** User and password, when the server asks for them. */
  readonly user?: string;
  readonly pass?: string;
  /** A token, when the server asks for one. */
  readonly token?: string;
  /**
   * Any other option of `@nats-io/transport-node`'s `connect()` (`tls`, `authenticator`, `name`, …), passed as
   * is; the fields above win over the same ones here.
   */
  readonly connectOptions?: Partial<NodeConnectionOptions>;
}

/** Connects with `options`, adding `extra` (reconnection policy, name). */
export function openConnection(
  options: NatsConnectOptions,
  extra: Partial<NodeConnectionOptions>,
): Promise<NatsConnection> {
  const servers = typeof options.servers === "string" ? options.servers : [...options.servers];
  const settings: NodeConnectionOptions = { ...options.connectOptions, ...extra, servers };
  if (options.user !== undefined) settings.user = options.user;
  if (options.pass !== undefined) settings.pass = options.pass;
  if (options.token !== undefined) settings.token = options.token;
  return connect(settings);
}

interface ProtocolInternals {
  transport?: { socket?: { unref?: () => void } };
  heartbeats?: { timer?: unknown; _schedule?: () => void };
}

/**
 * Makes an open connection stop holding the event loop: its socket is unref'd, and so is the client's ping timer,
 * which it re-arms after each ping. These are the client's internals (checked on 3.3.1, pinned); where they are
 * missing, the connection keeps holding the loop, and the backend still closes it once it has no workers.
 */
export function unrefConnection(nc: NatsConnection): void {
  const protocol = (nc as unknown as { protocol?: ProtocolInternals }).protocol;
  protocol?.transport?.socket?.unref?.();
  const beats = protocol?.heartbeats;
  const schedule = beats?._schedule;
  if (beats === undefined || typeof schedule !== "function") return;
  const unrefBeat = () => (beats.timer as { unref?: () => void } | undefined)?.unref?.();
  beats._schedule = () => {
    schedule.call(beats);
    unrefBeat();
  };
  unrefBeat();
}

/** The largest payload the server takes, less room for the protocol, with a floor. */
export function payloadLimit(nc: NatsConnection): number {
  const max = nc.info?.max_payload ?? 1024 * 1024;
  return Math.max(1024, max - 256);
}

// Opening a NATS connection for procpool, and letting it run without holding the event loop open.

import { AuthorizationError, connect, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { NodeTransport } from "@nats-io/transport-node/lib/node_transport.js";

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

/**
 * Connects with `options`, adding `extra` (reconnection policy, name). A server that refuses the credentials
 * rejects with an error that says "authentication failed" and names the servers; its `cause` is the client's
 * `AuthorizationError`.
 */
export async function openConnection(
  options: NatsConnectOptions,
  extra: Partial<NodeConnectionOptions>,
): Promise<NatsConnection> {
  guardClosedSockets();
  const servers = typeof options.servers === "string" ? options.servers : [...options.servers];
  const settings: NodeConnectionOptions = { ...options.connectOptions, ...extra, servers };
  if (options.user !== undefined) settings.user = options.user;
  if (options.pass !== undefined) settings.pass = options.pass;
  if (options.token !== undefined) settings.token = options.token;
  try {
    return await connect(settings);
  } catch (error) {
    if (!(error instanceof AuthorizationError)) throw error;
    const how = settings.token !== undefined
      ? "token"
      : settings.user !== undefined
      ? `user ${JSON.stringify(settings.user)} and password`
      : settings.authenticator !== undefined
      ? "credentials"
      : "no credentials";
    throw new Error(
      `authentication failed: the NATS server ${[servers].flat().join(", ")} refused the connection with ${how} ` +
        `(${error.message})`,
      { cause: error },
    );
  }
}

type SocketMaker = (this: unknown, ...args: unknown[]) => Promise<{ destroy(...args: unknown[]): unknown }>;
let guarded = false;

/**
 * On Deno, a socket that the client destroys (after removing its listeners) can still report the read error of a
 * connection the server reset — which a server does when it refuses credentials — and with no listener left that
 * error is uncaught and ends the program. Every socket the client opens gets a listener that ignores errors once
 * the client destroys it. Patches the client's transport class (its internals, checked on 3.3.1, pinned); where
 * the methods are missing, nothing changes.
 */
function guardClosedSockets(): void {
  if (guarded) return;
  guarded = true;
  const proto = NodeTransport.prototype as unknown as Record<string, SocketMaker | undefined>;
  for (const name of ["dial", "startTLS", "tlsFirst"]) {
    const make = proto[name];
    if (typeof make !== "function") continue;
    proto[name] = async function (this: unknown, ...args: unknown[]) {
      const socket = await make.apply(this, args);
      const destroy = socket.destroy;
      socket.destroy = function (this: { on(event: string, listener: () => void): void }, ...rest: unknown[]) {
        this.on("error", () => {});
        return destroy.apply(this, rest);
      };
      return socket;
    };
  }
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

/**
 * Writes what the client has queued to its socket now, rather than on the microtask the client would use: a
 * process that exits right after a publish then loses nothing it published (the kernel sends what was written).
 * The client's internals (checked on 3.3.1, pinned); where they are missing, the client writes as it would.
 */
export function pushNow(nc: NatsConnection): void {
  (nc as unknown as { protocol?: { flushPending?: () => void } }).protocol?.flushPending?.();
}

/**
 * How many bytes the connection's socket has written so far, which grows while a large publish drains; 0 where the
 * client's internals (checked on 3.3.1, pinned) or the runtime's socket do not tell.
 */
export function bytesWritten(nc: NatsConnection): number {
  const socket = (nc as unknown as { protocol?: { transport?: { socket?: { bytesWritten?: unknown } } } }).protocol
    ?.transport?.socket;
  return typeof socket?.bytesWritten === "number" ? socket.bytesWritten : 0;
}

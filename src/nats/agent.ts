// The NATS agent: takes spawn requests of one pool, runs each worker with a local backend, and stops the workers of
// a parent that went silent. Worker processes talk to NATS themselves (direct, the default: see worker_port.ts);
// with `direct: false`, for thread workers, and when the connection settings cannot be handed over, the agent
// relays each worker's frames between NATS and the worker.

import { readFileSync } from "node:fs";
import {
  credsAuthenticator,
  type Msg,
  type NatsConnection,
  type NodeConnectionOptions,
  nuid,
  type Subscription,
} from "@nats-io/transport-node";
import type { WorkerHandle } from "../runtime/backend.ts";
import { concreteKind, extname, loadBackend } from "../runtime/detect.ts";
import { type NatsConnectOptions, openConnection, payloadLimit } from "./connection.ts";
import {
  AGENT_QUEUE,
  agentBeatSubject,
  alonePayload,
  Assembler,
  checkPoolName,
  ctlSubject,
  type ExitReport,
  inSubject,
  now,
  outSubject,
  parentBeatSubject,
  parentPingSubject,
  PORT_MODULE_ENV,
  PORT_SETTINGS_ENV,
  PORT_SIGNAL,
  type PortSettings,
  requestFailure,
  type SpawnReply,
  type SpawnRequest,
  spawnSubject,
  toPayloads,
  withoutBuffers,
} from "./wire.ts";

// The module a direct worker opens its port with: beside this file, with its extension (.ts, or .js from npm).
const PORT_MODULE = new URL(`./worker_port${extname(import.meta.url)}`, import.meta.url).href;

// A direct worker's frames and its agent's exit report travel on two connections, which NATS does not order:
// after a worker exits, its agent waits this long before it reports, so that the server has the worker's last
// frames first (a clean exit also waits for the server's word that it has them; see worker_port.ts).
const EXIT_REPORT_DELAY_MS = 25;

/** How an agent runs. */
export interface AgentOptions extends NatsConnectOptions {
  /** The pool whose spawn requests this agent takes. */
  readonly pool: string;
  /** How many workers it runs at most. */
  readonly workers: number;
  /** Which local backend runs them: processes, threads, or the runtime's default. */
  readonly backend: "auto" | "process" | "worker";
  /**
   * Worker processes talk to NATS themselves (direct mode) instead of through this agent: one hop less each way,
   * and a frozen or busy agent holds up no frame. Each worker holds its connection on a thread of its own, which
   * answers the server's pings while a task holds the worker's main thread: a task of any length keeps it.
   * `false` relays every frame through the agent (`--relay`). Thread workers always relay.
   * @default {true}
   */
  readonly direct?: boolean;
  /**
   * The module URL prefixes it may run (`file:///srv/tasks/`, `https://example.com/tasks/`): a request for any
   * other module is refused. None: every request is refused.
   */
  readonly allowModules: readonly string[];
  /** This host's name, sent to parents for their error messages. */
  readonly host: string;
  /** This agent's process id, likewise. */
  readonly pid: number;
  /** How often it beats, in ms (parents take it for dead after their own `deadAfterMs` of silence). */
  readonly heartbeatMs: number;
  /** Where it reports what it does. */
  readonly log: (line: string) => void;
  /**
   * A credentials file (`--creds`): the agent reads it, and so does each of its direct workers, which is why it
   * is a path here rather than an authenticator in `connectOptions`.
   */
  readonly credsFile?: string;
}

/** A running agent. */
export interface Agent {
  /** This agent's id on the pool's subjects. */
  readonly id: string;
  /** Stops every worker and closes the connection. */
  close(): Promise<void>;
}

interface Parent {
  readonly id: string;
  lastSeen: number;
  /** A ping is under way (see parentPingSubject). */
  asking: boolean;
  readonly deadAfterMs: number;
  readonly subscription: Subscription;
  readonly workers: Set<Hosted>;
}

interface Hosted {
  readonly id: string;
  readonly parent: Parent;
  /** The local worker, once started. */
  handle: WorkerHandle | undefined;
  /** Its `ctl` subject, and in relay mode its `in` subject. */
  readonly subscriptions: Subscription[];
  /** Told to stop (by its parent, or because the parent went silent). */
  stopped: boolean;
  ended: boolean;
}

/** Whether `module` is under one of the allowed prefixes (URLs compared after normalising `..` and `%2e`). */
export function isAllowed(module: string, prefixes: readonly string[]): boolean {
  let href: string;
  try {
    href = new URL(module).href;
  } catch {
    return false;
  }
  return prefixes.some((prefix) => href.startsWith(prefix));
}

/** Whether `value` survives JSON as itself: no functions, buffers, class instances or `undefined`s lost. */
function isPlain(value: unknown): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlain);
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value as Record<string, unknown>).every(isPlain);
}

/**
 * The connection settings a direct worker is given, or why there are none: a thread backend (its relay hop is
 * cheap), or connect options that cannot be handed to another process (an authenticator function, TLS material
 * as bytes rather than file paths).
 */
function directSettings(options: AgentOptions): Omit<PortSettings, "pool" | "worker" | "name"> | string {
  if (options.direct === false) return "--relay";
  if (concreteKind(options.backend) !== "process") return "thread workers";
  const connectOptions = options.connectOptions ?? {};
  if (!isPlain(connectOptions)) return "connectOptions that cannot pass to a worker process (functions or bytes)";
  const servers = typeof options.servers === "string" ? [options.servers] : [...options.servers];
  return {
    servers,
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.pass === undefined ? {} : { pass: options.pass }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.credsFile === undefined ? {} : { credsFile: options.credsFile }),
    connectOptions: connectOptions as Record<string, unknown>,
  };
}

/** Connects and serves spawn requests of `options.pool` until closed. */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const pool = checkPoolName(options.pool);
  const id = nuid.next();
  const direct = directSettings(options);
  const connectOptions: Partial<NodeConnectionOptions> = { ...options.connectOptions };
  if (options.credsFile !== undefined) {
    connectOptions.authenticator = credsAuthenticator(readFileSync(options.credsFile));
  }
  const nc: NatsConnection = await openConnection({ ...options, connectOptions }, {
    name: `procpool agent ${id} on ${options.host}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  const limit = payloadLimit(nc);
  const parents = new Map<string, Parent>();
  let hosted = 0;
  let spawnSub: Subscription | undefined;
  let closing = false;

  const log = options.log;
  // Exit reports on their way (see EXIT_REPORT_DELAY_MS): close() sends them before it closes the connection.
  const reports = new Set<Promise<void>>();

  const publish = (subject: string, message: unknown) => {
    if (nc.isClosed()) return;
    for (const payload of toPayloads(message, limit)) nc.publish(subject, payload);
  };

  // An exit report shares the worker's subject, and may follow a frame the exit cut off: it is a payload of its own.
  const publishReport = (subject: string, report: ExitReport) => {
    if (!nc.isClosed()) nc.publish(subject, alonePayload(report));
  };

  // A full agent leaves the queue group, so that requests go to agents with room.
  const updateSpawnSubscription = () => {
    const room = !closing && hosted < options.workers;
    if (room && spawnSub === undefined) {
      spawnSub = nc.subscribe(spawnSubject(pool), {
        queue: AGENT_QUEUE,
        callback: (_e, msg) => {
          onSpawn(msg).catch((error) => log(`spawn failed: ${(error as Error).message}`));
        },
      });
    } else if (!room && spawnSub !== undefined) {
      spawnSub.unsubscribe();
      spawnSub = undefined;
    }
  };

  // A worker not started yet is not started at all.
  const stopWorker = (worker: Hosted) => {
    worker.stopped = true;
    if (!worker.ended) worker.handle?.terminate().catch(() => {});
  };

  const watchParent = (request: SpawnRequest): Parent => {
    let parent = parents.get(request.parent);
    if (parent === undefined) {
      const entry: Parent = {
        id: request.parent,
        lastSeen: now(),
        asking: false,
        deadAfterMs: request.deadAfterMs,
        workers: new Set(),
        subscription: nc.subscribe(parentBeatSubject(pool, request.parent), {
          callback: () => {
            entry.lastSeen = now();
          },
        }),
      };
      parent = entry;
      parents.set(parent.id, parent);
    }
    return parent;
  };

  const forget = (worker: Hosted) => {
    hosted--;
    for (const subscription of worker.subscriptions) subscription.unsubscribe();
    const parent = worker.parent;
    parent.workers.delete(worker);
    if (parent.workers.size === 0) {
      parents.delete(parent.id);
      parent.subscription.unsubscribe();
    }
    updateSpawnSubscription();
  };

  const onSpawn = async (msg: Msg) => {
    let request: SpawnRequest;
    try {
      request = msg.json<SpawnRequest>();
      if (
        typeof request.parent !== "string" || typeof request.worker !== "string" ||
        typeof request.module !== "string" || !/^[A-Za-z0-9_-]+$/.test(request.worker + request.parent) ||
        !(request.deadAfterMs > 0)
      ) throw new TypeError("malformed spawn request");
    } catch (error) {
      msg.respond(JSON.stringify({ ok: false, error: (error as Error).message } satisfies SpawnReply));
      return;
    }
    if (closing || hosted >= options.workers) {
      msg.respond(JSON.stringify({ ok: false, full: true } satisfies SpawnReply));
      return;
    }
    if (!isAllowed(request.module, options.allowModules)) {
      const allowed = options.allowModules.length === 0 ? "none (no --allow-module)" : options.allowModules.join(", ");
      const error = `agent ${id} on host ${options.host} refuses module ${request.module}: ` +
        `not under an allowed prefix; allowed: ${allowed}`;
      log(error);
      msg.respond(JSON.stringify({ ok: false, error } satisfies SpawnReply));
      return;
    }
    hosted++;
    updateSpawnSubscription();
    const parent = watchParent(request);
    const out = outSubject(pool, request.worker);
    const worker: Hosted = {
      id: request.worker,
      parent,
      handle: undefined,
      stopped: false,
      ended: false,
      subscriptions: [],
    };
    // Subscribed before anything is awaited: a kill from a parent that gave up waiting for this answer must find
    // the worker.
    worker.subscriptions.push(nc.subscribe(ctlSubject(pool, request.worker), {
      callback: (error, m) => {
        if (error !== null || worker.ended) return;
        let message: unknown;
        try {
          message = m.json();
        } catch {
          return;
        }
        if ((message as { kill?: unknown } | null)?.kill === true) {
          log(`worker ${worker.id} (pid ${worker.handle?.id ?? "not started"}) killed at the parent's request`);
          stopWorker(worker);
        }
      },
    }));
    // Relay mode: frames that come before the worker exists wait for it. (In direct mode the parent sends its
    // first frame only after this agent's "ok", which waits for the worker's own subscription.)
    const early: unknown[] = [];
    if (typeof direct === "string") {
      const assembler = new Assembler();
      worker.subscriptions.push(nc.subscribe(inSubject(pool, request.worker), {
        callback: (error, m) => {
          if (error !== null || worker.ended) return;
          let message: unknown;
          try {
            message = assembler.push(m.data);
          } catch {
            return stopWorker(worker);
          }
          if (!Array.isArray(message)) return;
          if (worker.handle === undefined) early.push(message);
          else worker.handle.send(message as never);
        },
      }));
    }
    parent.workers.add(worker);
    const env = typeof direct === "string" ? undefined : {
      [PORT_MODULE_ENV]: PORT_MODULE,
      [PORT_SETTINGS_ENV]: JSON.stringify(
        {
          ...direct,
          pool,
          worker: request.worker,
          name: `procpool worker ${request.worker} of agent ${id} on ${options.host}`,
        } satisfies PortSettings,
      ),
    };
    let handle: WorkerHandle;
    try {
      const backend = await loadBackend(options.backend, {
        module: request.module,
        denoPermissions: "inherit",
        ...(env === undefined ? {} : { env }),
      });
      if (worker.stopped) throw new Error("stopped before it started");
      handle = backend.spawn();
    } catch (error) {
      worker.ended = true;
      forget(worker);
      const reason = `agent ${id} on host ${options.host} could not start a worker: ${(error as Error).message}`;
      msg.respond(JSON.stringify({ ok: false, error: reason } satisfies SpawnReply));
      return;
    }
    worker.handle = handle;
    // Direct mode: the worker says over the local channel when it listens on NATS, or why it cannot.
    let portProblem: string | undefined;
    let settleReady: (problem: string | undefined) => void = () => {};
    const ready = new Promise<string | undefined>((resolve) => settleReady = resolve);
    let answered = false;
    handle.onMessage((frame) => {
      if (typeof direct === "string") {
        if (!worker.ended) publish(out, withoutBuffers(frame));
        return;
      }
      if (!Array.isArray(frame) || frame[0] !== PORT_SIGNAL) return;
      if (frame[1] === "ready") settleReady(undefined);
      else portProblem = String(frame[2]);
    });
    handle.onExit((exit) => {
      if (worker.ended) return;
      worker.ended = true;
      forget(worker);
      const detail = exit.error === undefined ? portProblem : String((exit.error as Error)?.message ?? exit.error);
      const how = exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
      settleReady(`its worker ${how} before it listened on NATS${detail === undefined ? "" : `: ${detail}`}`);
      if (typeof direct !== "string" && !answered) return;
      const report: ExitReport = {
        exit: {
          code: exit.code,
          signal: exit.signal,
          pid: handle.id,
          ...(detail === undefined ? {} : { error: detail }),
        },
      };
      if (typeof direct === "string") return publishReport(out, report);
      const sent = new Promise<void>((resolve) => setTimeout(resolve, EXIT_REPORT_DELAY_MS)).then(() => {
        publishReport(out, report);
        reports.delete(sent);
      });
      reports.add(sent);
    });
    for (const message of early.splice(0)) handle.send(message as never);
    if (typeof direct !== "string") {
      const problem = await ready;
      if (problem !== undefined || worker.stopped) {
        stopWorker(worker);
        const error = `agent ${id} on host ${options.host} could not start a worker: ${problem ?? "stopped"}`;
        log(error);
        msg.respond(JSON.stringify({ ok: false, error } satisfies SpawnReply));
        return;
      }
    }
    answered = true;
    const mode = typeof direct === "string" ? "relayed" : "direct";
    log(`worker ${request.worker} (pid ${handle.id}, ${mode}) started for parent ${request.parent}: ${request.module}`);
    msg.respond(
      JSON.stringify({ ok: true, agent: id, host: options.host, pid: options.pid, beatMs: options.heartbeatMs }),
    );
  };

  // A silent parent is asked whether it is still connected: one that died or disconnected has no subscriptions
  // left, and its workers stop; one that is busy (a long synchronous task) or frozen answers later, or never, and
  // keeps them. A parent host cut off without a word is dropped by the server after its ping timeout.
  const checkParent = (parent: Parent) => {
    const silentSince = parent.lastSeen;
    parent.asking = true;
    nc.request(parentPingSubject(pool, parent.id), undefined, { timeout: Math.max(parent.deadAfterMs, 1000) })
      .then(() => parent.lastSeen = now(), (error: Error) => {
        if (requestFailure(error) !== "no-responders" || !parents.has(parent.id)) return;
        log(`parent ${parent.id} silent for ${Math.round(now() - silentSince)} ms and gone: stopping its workers`);
        for (const worker of parent.workers) stopWorker(worker);
      })
      .finally(() => parent.asking = false);
  };

  let lastTick = now();
  const beat = agentBeatSubject(pool, id);
  const timer = setInterval(() => {
    const t = now();
    const late = t - lastTick > options.heartbeatMs * 2;
    lastTick = t;
    if (!nc.isClosed()) nc.publish(beat);
    for (const parent of [...parents.values()]) {
      if (late) parent.lastSeen = t;
      else if (t - parent.lastSeen > parent.deadAfterMs && !parent.asking) checkParent(parent);
    }
  }, options.heartbeatMs);

  // Parents take the workers of a disconnected agent for lost: stop them, so none runs on unwatched.
  (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        log(`disconnected from the NATS server: stopping ${hosted} worker(s)`);
        for (const parent of parents.values()) for (const worker of parent.workers) stopWorker(worker);
      }
    }
  })().catch(() => {});

  // The backend's module loads now, not in the first request's time.
  await loadBackend(options.backend, { module: import.meta.url, denoPermissions: "inherit" });
  updateSpawnSubscription();
  await nc.flush();
  log(
    typeof direct === "string"
      ? `relay mode (${direct}): this agent carries its workers' frames between NATS and them`
      : "direct mode: each worker process talks to NATS itself; this agent starts, watches and stops them",
  );

  return {
    id,
    async close() {
      if (closing) return;
      closing = true;
      updateSpawnSubscription();
      clearInterval(timer);
      const stops: Promise<void>[] = [];
      for (const parent of parents.values()) {
        for (const worker of parent.workers) {
          if (!worker.ended && worker.handle !== undefined) stops.push(worker.handle.terminate().catch(() => {}));
        }
      }
      await Promise.all(stops);
      await Promise.all(reports);
      await nc.drain().catch(() => {});
    },
  };
}

// The NATS agent: takes spawn requests of one pool, runs each worker with a local backend, bridges its frames, and
// stops the workers of a parent that went silent.

import { type Msg, type NatsConnection, nuid, type Subscription } from "@nats-io/transport-node";
import type { WorkerHandle } from "../runtime/backend.ts";
import { loadBackend } from "../runtime/detect.ts";
import { type NatsConnectOptions, openConnection, payloadLimit } from "./connection.ts";
import {
  AGENT_QUEUE,
  agentBeatSubject,
  Assembler,
  checkPoolName,
  type ExitReport,
  inSubject,
  now,
  outSubject,
  parentBeatSubject,
  parentPingSubject,
  requestFailure,
  type SpawnReply,
  type SpawnRequest,
  spawnSubject,
  toPayloads,
  withoutBuffers,
} from "./wire.ts";

/** How an agent runs. */
export interface AgentOptions extends NatsConnectOptions {
  /** The pool whose spawn requests this agent takes. */
  readonly pool: string;
  /** How many workers it runs at most. */
  readonly workers: number;
  /** Which local backend runs them: processes, threads, or the runtime's default. */
  readonly backend: "auto" | "process" | "worker";
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
  readonly subscription: Subscription;
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

/** Connects and serves spawn requests of `options.pool` until closed. */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const pool = checkPoolName(options.pool);
  const id = nuid.next();
  const nc: NatsConnection = await openConnection(options, {
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

  const publish = (subject: string, message: unknown) => {
    if (nc.isClosed()) return;
    for (const payload of toPayloads(message, limit)) nc.publish(subject, payload);
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
    worker.subscription.unsubscribe();
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
    const assembler = new Assembler();
    // Subscribed before anything is awaited: a kill from a parent that gave up waiting for this answer must find
    // the worker, and frames that come before the worker exists wait for it.
    const early: unknown[] = [];
    const worker: Hosted = {
      id: request.worker,
      parent,
      handle: undefined,
      stopped: false,
      ended: false,
      subscription: nc.subscribe(inSubject(pool, request.worker), {
        callback: (error, m) => {
          if (error !== null || worker.ended) return;
          let message: unknown;
          try {
            message = assembler.push(m.data);
          } catch {
            return stopWorker(worker);
          }
          if (Array.isArray(message)) {
            if (worker.handle === undefined) early.push(message);
            else worker.handle.send(message as never);
          } else if (message !== undefined && (message as { kill?: unknown }).kill === true) {
            log(`worker ${worker.id} (pid ${worker.handle?.id ?? "not started"}) killed at the parent's request`);
            stopWorker(worker);
          }
        },
      }),
    };
    parent.workers.add(worker);
    let handle: WorkerHandle;
    try {
      const backend = await loadBackend(options.backend, { module: request.module, denoPermissions: "inherit" });
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
    handle.onMessage((frame) => {
      if (!worker.ended) publish(out, withoutBuffers(frame));
    });
    handle.onExit((exit) => {
      if (worker.ended) return;
      worker.ended = true;
      const error = exit.error === undefined ? undefined : String((exit.error as Error)?.message ?? exit.error);
      const report: ExitReport = {
        exit: { code: exit.code, signal: exit.signal, pid: handle.id, ...(error === undefined ? {} : { error }) },
      };
      publish(out, report);
      forget(worker);
    });
    for (const message of early.splice(0)) handle.send(message as never);
    log(`worker ${request.worker} (pid ${handle.id}) started for parent ${request.parent}: ${request.module}`);
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
      await nc.drain().catch(() => {});
    },
  };
}

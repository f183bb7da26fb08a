// The NATS backend, parent side: each worker is a process or thread that a procpool agent runs on some host; the
// handle asks the pool's agents for one, bridges its frames, and watches the agent's heartbeats.

import { type NatsConnection, nuid, type Subscription } from "@nats-io/transport-node";
import { FrameError } from "../framing.ts";
import { HELLO, type ToWorker } from "../protocol.ts";
import type { Backend, WorkerExit, WorkerHandle } from "../runtime/backend.ts";
import { type NatsConnectOptions, openConnection, payloadLimit, unrefConnection } from "./connection.ts";
import {
  agentBeatSubject,
  Assembler,
  checkPoolName,
  ctlSubject,
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
  unrefTimer,
} from "./wire.ts";

/** Options of {@linkcode natsBackend}. */
export interface NatsBackendOptions extends NatsConnectOptions {
  /**
   * The pool of agents to ask for workers: agents started with the same `--pool` serve it.
   * @default {"default"}
   */
  readonly pool?: string;
  /**
   * The worker count a pool uses when it is not given `maxWorkers`.
   * @default {1}
   */
  readonly defaultMaxWorkers?: number;
  /**
   * How long a worker may wait for an agent with room for it; then it ends, and the pool breaks.
   * @default {10000}
   */
  readonly spawnTimeoutMs?: number;
  /**
   * How often this parent tells its agents it is alive.
   * @default {250}
   */
  readonly heartbeatMs?: number;
  /**
   * After how long without a heartbeat an agent is taken for dead (killed, frozen or cut off), its workers with it;
   * agents stop this parent's workers after the same silence from it.
   * @default {1000}
   */
  readonly deadAfterMs?: number;
}

/**
 * What a remote worker ended of, as the `cause` of the pool's `WorkerExitError`: which worker on which host, and
 * how (its exit, its agent's silence, the NATS server lost, or no agent to run it).
 */
export class NatsWorkerError extends Error {
  static {
    this.prototype.name = "NatsWorkerError";
  }
  /** The agent's host, when an agent took the worker. */
  readonly host: string | undefined;
  /** The agent's id. */
  readonly agent: string | undefined;
  /** The worker's pid (or thread id) on that host, when known. */
  readonly pid: number | undefined;

  constructor(message: string, where: { host?: string; agent?: string; pid?: number } = {}) {
    super(message);
    this.host = where.host;
    this.agent = where.agent;
    this.pid = where.pid;
  }
}

interface AgentWatch {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  lastSeen: number;
  readonly subscription: Subscription;
  readonly workers: Set<RemoteWorker>;
}

interface Settings {
  readonly pool: string;
  readonly spawnTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
}

// The connection a backend's workers share: opened for the first worker, closed after the last one ended.
class Link {
  readonly id: string = nuid.next();
  readonly settings: Settings;
  readonly #options: NatsConnectOptions;
  #connection: Promise<NatsConnection> | undefined;
  #nc: NatsConnection | undefined;
  readonly #workers = new Set<RemoteWorker>();
  readonly #agents = new Map<string, AgentWatch>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastTick = 0;
  #attempts = 0;
  // Counts connections asked for: one that opens after its workers are gone is closed at once.
  #generation = 0;

  constructor(options: NatsConnectOptions, settings: Settings) {
    this.#options = options;
    this.settings = settings;
  }

  /** A worker id for one spawn attempt, unique over the NATS pool. */
  nextWorkerId(): string {
    return `${this.id}_${++this.#attempts}`;
  }

  /** Registers a worker and returns the open connection, connecting first if need be. */
  acquire(worker: RemoteWorker): Promise<NatsConnection> {
    this.#workers.add(worker);
    if (this.#connection === undefined) {
      const opening = this.#open(++this.#generation);
      this.#connection = opening;
      // A failed connect is reported by each worker that awaits it; the next worker tries again.
      opening.catch(() => {
        if (this.#connection === opening) this.#connection = undefined;
      });
    }
    return this.#connection;
  }

  async #open(generation: number): Promise<NatsConnection> {
    const nc = await openConnection(this.#options, { reconnect: false, name: `procpool parent ${this.id}` });
    if (generation !== this.#generation) {
      // Every worker that wanted it ended while it was opening.
      nc.close().catch(() => {});
      throw new Error("the connection is no longer needed");
    }
    // The pool holds the event loop while it has work; an idle pool must not (R7.7), nor its connection.
    unrefConnection(nc);
    this.#nc = nc;
    this.#lastTick = now();
    nc.subscribe(parentPingSubject(this.settings.pool, this.id), { callback: (_error, msg) => void msg.respond() });
    const beat = parentBeatSubject(this.settings.pool, this.id);
    this.#timer = setInterval(() => this.#tick(nc, beat), this.settings.heartbeatMs);
    unrefTimer(this.#timer);
    nc.closed().then((error) => this.#closed(nc, error));
    return nc;
  }

  #tick(nc: NatsConnection, beat: string): void {
    const t = now();
    // A tick this late means this process was not running (a long synchronous task, a stopped process): the
    // silence was ours, so nobody is judged on it.
    const late = t - this.#lastTick > this.settings.deadAfterMs / 2;
    this.#lastTick = t;
    if (!nc.isClosed()) nc.publish(beat);
    for (const agent of [...this.#agents.values()]) {
      if (late) agent.lastSeen = t;
      else if (t - agent.lastSeen > this.settings.deadAfterMs) {
        const silence = Math.round(t - agent.lastSeen);
        for (const worker of [...agent.workers]) {
          worker.lose(
            `agent ${agent.id} on host ${agent.host} (pid ${agent.pid}) sent no heartbeat for ${silence} ms: ` +
              `killed, frozen or cut off; its worker ${worker.where()} is lost`,
          );
        }
      }
    }
  }

  // The server went away (or this backend closed the connection after its last worker).
  #closed(nc: NatsConnection, error: Error | void): void {
    if (this.#nc === nc) this.#stop();
    const server = nc.getServer();
    for (const worker of [...this.#workers]) {
      if (worker.connection === nc) {
        worker.lose(`lost the NATS server ${server}${error ? ` (${error.message})` : ""}; worker ${worker.where()}`);
      }
    }
  }

  /** Starts watching the heartbeats of the agent that runs `worker`. */
  watch(nc: NatsConnection, worker: RemoteWorker, agent: { id: string; host: string; pid: number }): void {
    let watch = this.#agents.get(agent.id);
    if (watch === undefined) {
      const entry: AgentWatch = {
        ...agent,
        lastSeen: now(),
        workers: new Set(),
        subscription: nc.subscribe(agentBeatSubject(this.settings.pool, agent.id), {
          callback: () => {
            entry.lastSeen = now();
          },
        }),
      };
      watch = entry;
      this.#agents.set(agent.id, watch);
    }
    watch.workers.add(worker);
  }

  /** Forgets a worker that ended; closes the connection once no worker is left. */
  release(worker: RemoteWorker, agent: string | undefined): void {
    this.#workers.delete(worker);
    const watch = agent === undefined ? undefined : this.#agents.get(agent);
    if (watch !== undefined) {
      watch.workers.delete(worker);
      if (watch.workers.size === 0) {
        this.#agents.delete(watch.id);
        if (!watch.subscription.isClosed()) watch.subscription.unsubscribe();
      }
    }
    if (this.#workers.size > 0) return;
    this.#generation++;
    const nc = this.#nc;
    this.#stop();
    // The workers' last messages (a kill) reach the server first: close() alone drops what is still queued.
    if (nc !== undefined) nc.flush().catch(() => {}).finally(() => nc.close().catch(() => {}));
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#nc = undefined;
    this.#connection = undefined;
  }
}

type State = "new" | "requesting" | "live" | "exited";

let nextHandleId = 1;

// One remote worker, from the parent's side.
class RemoteWorker implements WorkerHandle {
  readonly id: number = nextHandleId++;
  readonly #link: Link;
  #state: State = "new";
  // terminate() was called while the spawn request was under way.
  #terminating = false;
  #queue: ToWorker[] = [];
  #listener: ((message: unknown) => void) | undefined;
  #exitListener: ((exit: WorkerExit) => void) | undefined;
  #ended!: () => void;
  readonly #endedPromise = new Promise<void>((resolve) => this.#ended = resolve);
  connection: NatsConnection | undefined;
  #worker = "";
  #subscription: Subscription | undefined;
  #agent: { id: string; host: string; pid: number } | undefined;
  #pid: number | undefined;
  #limit = 0;

  constructor(link: Link) {
    this.#link = link;
  }

  send(message: ToWorker): void {
    if (this.#state === "exited" || this.#terminating) return;
    if (this.#state === "live") return this.#publish(message);
    this.#queue.push(message);
    if (this.#state === "new" && message[0] === HELLO) {
      this.#state = "requesting";
      this.#start(message[1].module).catch((error) => this.lose(`could not start: ${(error as Error).message}`));
    }
  }

  onMessage(listener: (message: unknown) => void): void {
    this.#listener = listener;
  }

  onExit(listener: (exit: WorkerExit) => void): void {
    this.#exitListener = listener;
  }

  terminate(): Promise<void> {
    if (this.#state === "live") this.#killAndAwait();
    else if (this.#state === "requesting") {
      // An agent may be starting this worker: wait for its answer, then stop what it started, so that no worker
      // outlives the pool (R7.6). #start does either.
      this.#terminating = true;
      this.#queue = [];
    } else this.#finish({ code: null, signal: "SIGKILL" });
    return this.#endedPromise;
  }

  // Tells the agent to kill the worker; the agent reports the exit, and one that does not is as good as gone.
  #killAndAwait(): void {
    this.#kill();
    const timer = setTimeout(() => this.#finish({ code: null, signal: "SIGKILL" }), this.#link.settings.deadAfterMs);
    this.#endedPromise.then(() => clearTimeout(timer));
  }

  /** Where the worker runs, for messages. */
  where(): string {
    if (this.#agent === undefined) return `${this.id} (not started)`;
    const pid = this.#pid === undefined ? "" : ` pid ${this.#pid}`;
    return `${this.id} (${this.#worker}${pid} on host ${this.#agent.host})`;
  }

  /** Ends the worker for a reason this side found (agent silent, server lost, no agent): tells the agent to kill it. */
  lose(reason: string): void {
    if (this.#state === "exited") return;
    if (this.#state === "live") this.#kill();
    const error = new NatsWorkerError(reason, { host: this.#agent?.host, agent: this.#agent?.id, pid: this.#pid });
    this.#finish({ code: null, signal: null, error });
  }

  async #start(module: string): Promise<void> {
    const { pool, spawnTimeoutMs, heartbeatMs, deadAfterMs } = this.#link.settings;
    let nc: NatsConnection;
    try {
      nc = await this.#link.acquire(this);
    } catch (error) {
      return this.lose(`could not connect to the NATS servers: ${(error as Error).message}`);
    }
    this.connection = nc;
    this.#limit = payloadLimit(nc);
    const deadline = now() + spawnTimeoutMs;
    let lastProblem = "no agent answered";
    while (this.#state === "requesting") {
      if (this.#terminating) return this.#finish({ code: null, signal: "SIGKILL" });
      const worker = this.#link.nextWorkerId();
      const assembler = new Assembler();
      // Subscribed before asking: the worker's first words cannot come before the subscription is in place.
      const subscription = nc.subscribe(outSubject(pool, worker), {
        callback: (error, msg) => {
          if (error === null) this.#onOut(assembler, msg.data);
        },
      });
      const request: SpawnRequest = { parent: this.#link.id, worker, module, beatMs: heartbeatMs, deadAfterMs };
      let reply: SpawnReply | undefined;
      try {
        const left = deadline - now();
        const msg = await nc.request(spawnSubject(pool), JSON.stringify(request), {
          // An agent answers once its worker listens (a process's start and connection): room for a loaded host.
          timeout: Math.max(50, Math.min(5000, left)),
        });
        reply = msg.json<SpawnReply>();
      } catch (error) {
        const kind = requestFailure(error);
        lastProblem = kind === "no-responders"
          ? "no agent with room for a worker"
          : kind === "timeout"
          ? "no agent answered in time"
          : (error as Error).message;
        // An agent may have taken the request after all: that worker must not run unwatched.
        if (kind === "timeout" && !nc.isClosed()) nc.publish(ctlSubject(pool, worker), JSON.stringify({ kill: true }));
      }
      if (reply?.ok === true) {
        if (this.#state !== "requesting") {
          // Terminated while asking.
          if (!nc.isClosed()) nc.publish(ctlSubject(pool, worker), JSON.stringify({ kill: true }));
          subscription.unsubscribe();
          return;
        }
        this.#worker = worker;
        this.#subscription = subscription;
        this.#agent = { id: reply.agent, host: reply.host, pid: reply.pid };
        this.#link.watch(nc, this, this.#agent);
        this.#state = "live";
        if (this.#terminating) return this.#killAndAwait();
        const queue = this.#queue;
        this.#queue = [];
        for (const message of queue) this.#publish(message);
        return;
      }
      subscription.unsubscribe();
      if (this.#state !== "requesting") return;
      // Terminated while asking, and no agent took the worker: nothing runs.
      if (this.#terminating) return this.#finish({ code: null, signal: "SIGKILL" });
      if (reply !== undefined && reply.full !== true) {
        return this.lose(`an agent of NATS pool "${pool}" refused the worker: ${reply.error ?? "no reason given"}`);
      }
      if (reply?.full === true) lastProblem = "every agent is full";
      if (now() >= deadline) {
        return this.lose(
          `no procpool agent of NATS pool "${pool}" took the worker within ${spawnTimeoutMs} ms (${lastProblem}); ` +
            `start one with: agent.ts --servers URL --pool ${pool} --allow-module DIR`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  #publish(message: unknown): void {
    const nc = this.connection;
    if (nc === undefined || nc.isClosed()) return;
    const subject = inSubject(this.#link.settings.pool, this.#worker);
    for (const payload of toPayloads(message, this.#limit)) nc.publish(subject, payload);
  }

  // The agent, not the worker, reads kills: a worker busy in a synchronous task could not.
  #kill(): void {
    const nc = this.connection;
    if (nc === undefined || nc.isClosed()) return;
    nc.publish(ctlSubject(this.#link.settings.pool, this.#worker), JSON.stringify({ kill: true }));
  }

  #onOut(assembler: Assembler, data: Uint8Array): void {
    if (this.#state === "exited") return;
    const text = assembler.pushText(data);
    if (text === undefined) return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (error) {
      // The pool's frame check throws it, naming the worker.
      this.#listener?.(new FrameError(`text that is not JSON (${(error as Error).message})`, text));
      return;
    }
    if (Array.isArray(message)) {
      this.#listener?.(message);
      return;
    }
    const report = (message as Partial<ExitReport>).exit;
    if (report === undefined) return;
    this.#pid = report.pid;
    const how = report.signal !== null
      ? `was killed by ${report.signal}`
      : report.code === null
      ? "died"
      : `exited with code ${report.code}`;
    const normal = report.code === 0 && report.signal === null;
    const error = normal ? undefined : new NatsWorkerError(
      `remote worker ${this.where()} ${how}${report.error === undefined ? "" : `: ${report.error}`}`,
      { host: this.#agent?.host, agent: this.#agent?.id, pid: report.pid },
    );
    this.#finish({ code: report.code, signal: report.signal, error });
  }

  #finish(exit: WorkerExit): void {
    if (this.#state === "exited") return;
    const agent = this.#agent?.id;
    this.#state = "exited";
    this.#queue = [];
    if (this.#subscription !== undefined && !this.#subscription.isClosed()) this.#subscription.unsubscribe();
    this.#link.release(this, agent);
    this.#ended();
    this.#exitListener?.(exit);
  }
}

/**
 * Creates a backend whose workers run on other hosts: each one is started by a procpool agent (`agent.ts`) of
 * the NATS pool `options.pool`, and the pool's futures behave as with local workers.
 */
export function natsBackend(options: NatsBackendOptions): Backend {
  const pool = checkPoolName(options.pool ?? "default");
  const settings: Settings = {
    pool,
    spawnTimeoutMs: positive(options.spawnTimeoutMs, 10_000, "spawnTimeoutMs"),
    heartbeatMs: positive(options.heartbeatMs, 250, "heartbeatMs"),
    deadAfterMs: positive(options.deadAfterMs, 1000, "deadAfterMs"),
  };
  const link = new Link(options, settings);
  return {
    name: `nats:${pool}`,
    defaultMaxWorkers: positive(options.defaultMaxWorkers, 1, "defaultMaxWorkers"),
    spawn: () => new RemoteWorker(link),
  };
}

function positive(value: unknown, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > 0)) {
    throw new RangeError(`Cannot create the NATS backend: ${what} must be a positive number, got ${String(value)}`);
  }
  return value;
}

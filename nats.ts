/**
 * Workers on other hosts, through NATS: {@linkcode natsBackend} is a `backend` for `ProcessPoolExecutor` whose
 * workers are started by procpool agents (`agent.ts`) of a pool, wherever they run. Futures, errors and broken
 * pools behave as with local workers. Kept out of `mod.ts`, so that only programs that import this module load
 * the NATS client.
 *
 * @example Tasks on the agents of pool "gpu"
 * ```ts ignore
 * import { ProcessPoolExecutor } from "@procpool/procpool";
 * import { natsBackend } from "@procpool/procpool/nats";
 *
 * // On each host: deno run -A jsr:@procpool/procpool/agent --servers nats://broker:4222 --pool gpu \
 * //   --allow-module file:///srv/tasks/
 * await using pool = new ProcessPoolExecutor({
 *   module: "file:///srv/tasks/render.ts",
 *   backend: natsBackend({ servers: "nats://broker:4222", pool: "gpu" }),
 *   maxWorkers: 8,
 * });
 * console.log(await pool.submit("render", 42).result());
 * ```
 *
 * @module
 */

export { natsBackend, type NatsBackendOptions, NatsWorkerError } from "./src/nats/parent.ts";
export type { NatsConnectOptions } from "./src/nats/connection.ts";

/**
 * The procpool agent: runs workers for parents elsewhere that use `natsBackend` (`./nats`) with the same pool.
 *
 * ```sh
 * deno run -A jsr:@procpool/procpool/agent --servers nats://broker:4222 --pool gpu --workers 8 \
 *   --allow-module file:///srv/tasks/
 * node --import tsx agent.ts --servers nats://broker:4222 --allow-module /srv/tasks
 * bun agent.ts --servers nats://broker:4222 --allow-module /srv/tasks
 * ```
 *
 * Flags: `--servers URL[,URL]` (required), `--pool NAME` (default "default"), `--workers N` (default: available
 * parallelism), `--backend auto|process|worker`, `--allow-module DIR|URL-prefix` (repeatable; without one every
 * module is refused), `--user`/`--pass`, `--token`, `--creds FILE`, `--tls-ca FILE`, `--tls-cert FILE`,
 * `--tls-key FILE`, `--heartbeat-ms N` (default 250), `--direct`. Prints `procpool agent ready` once it serves.
 *
 * The agent relays its workers' frames between NATS and them. With `--direct`, worker processes
 * (`--backend process`) talk to NATS themselves, with the agent's connection settings, so that a task's frames do
 * not pass through the agent; but a task that holds its worker's thread longer than the server's stale-connection
 * limit (4–6 minutes by default) then loses its connection and its result. Thread workers are always relayed.
 *
 * @module
 */

import { main } from "./src/nats/agent_main.ts";

// Node 20 has no import.meta.main: there this file is only ever run, not imported.
if ((import.meta as { main?: boolean }).main ?? true) await main();

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
 * `--tls-key FILE`, `--heartbeat-ms N` (default 250), `--relay`. Prints `procpool agent ready` once it serves.
 *
 * Worker processes (`--backend process`) talk to NATS themselves, with the agent's connection settings, each on a
 * thread of its own that keeps the connection alive however long a task holds the worker; the agent starts,
 * watches and stops them. With `--relay`, and always for thread workers, the agent carries every frame between
 * NATS and its workers instead.
 *
 * @module
 */

import { main } from "./src/nats/agent_main.ts";

// Node 20 has no import.meta.main: there this file is only ever run, not imported.
if ((import.meta as { main?: boolean }).main ?? true) await main();

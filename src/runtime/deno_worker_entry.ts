// Entry point of a Deno Web Worker: serve the parent through the port it hands over first.

import { serve } from "../worker_main.ts";
import { webWorkerPort } from "./deno_worker.ts";
import { hookExits } from "./exit_hooks.ts";

hookExits(serve(await webWorkerPort()));

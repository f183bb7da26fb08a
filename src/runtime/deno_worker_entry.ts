// Entry point of a Deno Web Worker: serve the parent through `self`.

import { serve } from "../worker_main.ts";
import { webWorkerPort } from "./deno_worker.ts";

serve(webWorkerPort());

// Entry point of a thread worker: serve the parent over the worker's parent port.

import { serve } from "../worker_main.ts";
import { threadPort } from "./node_worker_threads.ts";

serve(threadPort());

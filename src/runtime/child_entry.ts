// Entry point of a process worker: serve the parent over the IPC channel.

import { serve } from "../worker_main.ts";
import { childPort } from "./node_child_process.ts";

serve(childPort());

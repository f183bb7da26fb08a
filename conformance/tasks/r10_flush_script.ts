// Not a task module: the program output.test.ts runs with its stdout (or stderr) a slow pipe. One worker prints
// ~400 KB (r10_flush_tasks.ts) and then ends as `variant` says; the program then writes one line saying how the
// pool took it, to the other stream. Usage: <runtime> r10_flush_script.ts <backend> <variant> <stream> <tag>
//   backend: process | worker | web-worker (Deno: a Web Worker, which a pool with denoPermissions gets)
//   variant: shutdown | maxTasksPerChild | initializer | exit | concurrent (two workers that retire after each task;
//            six tasks that each write 1,000 lines, one at a time or all at once)

import process from "node:process";
import { ProcessPoolExecutor, type ProcessPoolExecutorOptions } from "../../mod.ts";
import { LETTERS, type Stream } from "./r10_flush_tasks.ts";

const [backendArg, variant, stream, tag] = process.argv.slice(2) as [string, string, Stream, string];
const other = stream === "stdout" ? process.stderr : process.stdout;
const options: ProcessPoolExecutorOptions = {
  module: new URL("./r10_flush_tasks.ts", import.meta.url),
  maxWorkers: variant === "concurrent" ? 2 : 1,
  backend: backendArg === "web-worker" ? "worker" : backendArg as "process" | "worker",
  ...(backendArg === "web-worker" ? { denoPermissions: "none" as const } : {}),
  ...(variant === "maxTasksPerChild" || variant === "concurrent" ? { maxTasksPerChild: 1 } : {}),
  ...(variant === "initializer" ? { initializer: "speakThenFail", initArgs: [stream, tag] } : {}),
};

const pool = new ProcessPoolExecutor(options);
let outcome: string;
try {
  if (variant === "concurrent") {
    const letters = await Promise.all(
      LETTERS.map((letter, i) => pool.submit<string>("speakLines", stream, letter, i % 2 === 1)),
    );
    outcome = `returned ${letters.join("")}`;
  } else if (variant === "exit") {
    await pool.submit("speakThenExit", stream, tag);
    outcome = "returned";
  } else {
    outcome = `returned ${await pool.submit<string>("speak", stream, tag)}`;
    // The retired worker's successor runs this one: the first worker has ended by the time it is done.
    if (variant === "maxTasksPerChild") outcome += `, then ${await pool.submit<number>("identity", 2)}`;
  }
} catch (error) {
  outcome = `raised ${(error as Error).name}`;
}
await pool.shutdown();
other.write(`r10 flush parent: ${outcome}\n`);

// Which of the parent's Node flags a worker starts with.

import process from "node:process";

// The parent's flags a child needs: module loaders and resolution conditions, memory limits, and the switches
// that change what JavaScript can do or how it reports. Everything else stays with the parent: `-e`/`-p` would
// make the child run the parent's code (and fork again), `--test`, `--watch` and `--inspect` are the parent's own.
const FORWARDED =
  /^(--(import|require|loader|experimental-loader|conditions|max-old-space-size|max-semi-space-size|stack-size|expose-gc|enable-source-maps|no-warnings|disable-warning|no-deprecation|throw-deprecation|trace-warnings|trace-uncaught|unhandled-rejections|experimental-(?!test)[a-z-]+|no-experimental-[a-z-]+|harmony[a-z-]*|disable-proto|frozen-intrinsics|preserve-symlinks|preserve-symlinks-main|env-file|openssl-[a-z-]+|use-[a-z-]+|permission|allow-[a-z-]+)|-r|-C)(=|$)/;
// Those of them whose value may come as the next argument.
const TAKES_VALUE =
  /^(--(import|require|loader|experimental-loader|conditions|disable-warning|unhandled-rejections|env-file|allow-fs-read|allow-fs-write)|-r|-C)$/;
// Flags of the parent's own whose value may come as the next argument, which must not be read as a flag.
const OWN_WITH_VALUE = /^(-e|--eval|-p|--print|--input-type|--inspect-port|--test-[a-z-]+|--watch-path)$/;

/** The part of `execArgv` a child process is started with; see {@linkcode FORWARDED}. */
export function childExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i];
    if (FORWARDED.test(flag)) {
      kept.push(flag);
      if (TAKES_VALUE.test(flag) && i + 1 < execArgv.length) kept.push(execArgv[++i]);
    } else if (OWN_WITH_VALUE.test(flag)) {
      i++;
    }
  }
  return kept;
}

// The flags that make Node run code given on its command line: a thread that inherited them would fail to start
// (`--input-type` is refused for a file), and what a thread cannot use, a process would re-run.
const EVAL = /^(-e|--eval|-p|--print|--input-type)(=|$)/;

/**
 * The flags a worker thread starts with: the parent's, less those about code given on the command line (`-e`,
 * `-p`, `--input-type`). Threads otherwise inherit every flag, which Node checks itself.
 */
export function threadExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i];
    if (!EVAL.test(flag)) kept.push(flag);
    else if (!flag.includes("=")) i++; // the code or the type follows
  }
  return kept;
}

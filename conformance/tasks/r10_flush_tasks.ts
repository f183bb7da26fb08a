// Task module for output.test.ts (R10.2): tasks and an initializer that write far more than a pipe holds (64 KiB)
// to stdout or stderr, once with one stream write and once with console, and then end in different ways.

import process from "node:process";

/** Which stream a worker writes to. */
export type Stream = "stdout" | "stderr";

// 1,000 numbered lines of 200 bytes each: a lost or misplaced piece shows where it went missing.
function lines(tag: string, kind: string): string {
  let text = "";
  for (let i = 0; i < 1000; i++) {
    const head = `${tag} ${kind} ${String(i).padStart(4, "0")} `;
    text += head.padEnd(199, kind === "write" ? "w" : "c") + "\n";
  }
  return text;
}

// 200,001 bytes for one `write` on the stream, and a 200,000-character string for console (which adds a newline).
const writeText = (tag: string) => `${lines(tag, "write")}\n`;
const consoleText = (tag: string) => `${lines(tag, "console").slice(0, -1)}.`;

/** What a worker prints, in order: 200,001 bytes through one write on the stream, then 200,001 through console. */
export function expectedOutput(tag: string): string {
  return `${writeText(tag)}${consoleText(tag)}\n`;
}

function speakTo(stream: Stream, tag: string): void {
  process[stream].write(writeText(tag));
  if (stream === "stdout") console.log(consoleText(tag));
  else console.error(consoleText(tag));
}

/** Prints, then returns `tag`. */
export function speak(stream: Stream, tag: string): string {
  speakTo(stream, tag);
  return tag;
}

/** An initializer that prints, then fails. */
export function speakThenFail(stream: Stream, tag: string): void {
  speakTo(stream, tag);
  throw new Error(`r10 flush: the initializer failed after printing (${tag})`);
}

/** Prints, then ends the worker with exit code 3. */
export function speakThenExit(stream: Stream, tag: string): never {
  speakTo(stream, tag);
  process.exit(3);
}

/** The letters of the tasks that run on two workers at once, one letter each. */
export const LETTERS = ["a", "b", "c", "d", "e", "f"] as const;

/**
 * Prints 1,000 lines of 199 `letter`s, then returns `letter`: one write per line (as a task that logs as it goes),
 * or all in one write.
 */
export function speakLines(stream: Stream, letter: string, oneWrite: boolean): string {
  const line = `${letter.repeat(199)}\n`;
  if (oneWrite) process[stream].write(line.repeat(1000));
  else for (let i = 0; i < 1000; i++) process[stream].write(line);
  return letter;
}

/** Returns its argument. */
export function identity<T>(value: T): T {
  return value;
}

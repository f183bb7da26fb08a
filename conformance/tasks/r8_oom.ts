// Task module for the out-of-memory test: a task that keeps every allocation alive until the heap runs out.

export function hog(): number {
  const kept: number[][] = [];
  for (;;) kept.push(new Array(1_000_000).fill(kept.length));
}

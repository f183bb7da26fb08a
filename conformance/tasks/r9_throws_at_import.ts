// A task module whose top level throws, in the parent and in every worker alike (R9.6).

export function double(x: number): number {
  return x * 2;
}

throw new Error("r9: this task module fails at import on purpose");

// The values benchmark's task module: what a task does with a big value is trivial, so that what is measured is
// moving the value.

/** The sum of a numeric array's elements, or a string's length: reads every element. */
export function consume(value: ArrayLike<number> | string | { x: number; y: number }[]): number {
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) {
    let total = 0;
    for (const row of value) total += row.x + row.y;
    return total;
  }
  const array = value as ArrayLike<number>;
  let total = 0;
  for (let i = 0; i < array.length; i += 64) total += array[i];
  return total;
}

/** Returns its argument: the value crosses twice. */
export function echo<T>(value: T): T {
  return value;
}
